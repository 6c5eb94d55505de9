#include "layer.h"

#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "async_runner.h"
#include "convert.h"

namespace binding {
namespace {

// One forward call's buffers, checked against the layer on the JS thread.
struct Call {
  simdconv::CallShape shape;
  const float* input;
  float* output;
  size_t input_length;
  size_t output_length;
};

// A forwardAsync call's own memory. While the runner thread computes, JS may
// transfer the caller's arrays away (their memory then belongs to the
// receiver, which may free it) or shrink a resizable ArrayBuffer (its pages
// are decommitted), and Node-API offers no way to pin a backing store. So the
// job reads a copy of the input (and of the residual, if any) taken at the
// call, and writes either into a result array that only it can reach (no
// `out` given) or into an output of its own, copied into the caller's `out`
// on the JS thread once `out` is checked to be intact. The input copy is
// O(input), small next to the convolution; the output is allocated when the
// job starts, so queued jobs hold only their input (and residual) copies.
// The residual copy also makes a residual that aliases `out` harmless.
struct OwnedBuffers {
  std::unique_ptr<float[]> input;
  std::unique_ptr<float[]> residual;  // a copy taken at the call, or null
  std::unique_ptr<float[]> output;  // used when the caller gave `out`
  float* result = nullptr;          // else: the data of the unreachable result array
  size_t input_length = 0;
  size_t output_length = 0;
};

// `v`, a Float32Array of `length` elements at the call, as it is now; throws
// (rejecting the call) if it was detached or resized meanwhile.
Napi::Float32Array unchanged(const Napi::Value& v, size_t length, const char* name) {
  Napi::Env env = v.Env();
  const auto a = v.As<Napi::Float32Array>();
  if (a.ArrayBuffer().IsDetached())
    throw Napi::TypeError::New(env, std::string("forwardAsync: ") + name +
                                        " was detached while the call ran (transferred by postMessage or "
                                        "structuredClone?)");
  if (a.ElementLength() != length)
    throw Napi::RangeError::New(env, std::string("forwardAsync: ") + name + " was resized while the call ran: " +
                                         std::to_string(a.ElementLength()) + " elements, expected " +
                                         std::to_string(length));
  return a;
}

// With `out_optional`, a null/undefined out is allowed (output null, its length still set).
Call check_call(const Napi::CallbackInfo& info, const simdconv::ConvLayer& layer, bool out_optional = false) {
  Napi::Env env = info.Env();
  const FloatArray in = float_array(info[0], "input");
  const simdconv::CallShape s = call_shape(info, 1);
  const bool no_out = out_optional && (info[4].IsNull() || info[4].IsUndefined());
  const FloatArray out = no_out ? FloatArray{} : float_array(info[4], "out");
  const simdconv::LayerParams& p = layer.params();
  const simdconv::OutputSize o = guard(env, [&] { return simdconv::output_size(p, s); });
  require_length(env, in, s.batch * p.in_channels * s.height * s.width, "input");
  const int64_t out_length = s.batch * p.out_channels * o.height * o.width;
  if (no_out) return Call{s, in.data, nullptr, in.length, size_t(out_length)};
  require_length(env, out, out_length, "out");
  const char* in_begin = reinterpret_cast<const char*>(in.data);
  const char* out_begin = reinterpret_cast<const char*>(out.data);
  if (in_begin < out_begin + out.length * 4 && out_begin < in_begin + in.length * 4)
    throw Napi::Error::New(env, "out must not share memory with input");
  return Call{s, in.data, out.data, in.length, out.length};
}

// The optional residual argument: null/undefined (none), or a Float32Array,
// still attached, of exactly the output's length.
FloatArray residual_array(const Napi::Value& v, size_t out_length) {
  if (v.IsNull() || v.IsUndefined()) return FloatArray{};
  const FloatArray r = float_array(v, "residual");
  if (v.As<Napi::Float32Array>().ArrayBuffer().IsDetached())
    throw Napi::TypeError::New(v.Env(), "residual has a detached buffer (transferred by postMessage or "
                                        "structuredClone?)");
  if (r.length != out_length)
    throw Napi::RangeError::New(v.Env(), "residual has " + std::to_string(r.length) +
                                             " elements, expected " + std::to_string(out_length) +
                                             " (the output's length)");
  return r;
}

}  // namespace

Napi::Function Layer::Define(Napi::Env env) {
  return DefineClass(env, "Layer",
                     {InstanceMethod("setWeights", &Layer::SetWeights),
                      InstanceMethod("forward", &Layer::Forward),
                      InstanceMethod("forwardAsync", &Layer::ForwardAsync),
                      InstanceAccessor("algorithm", &Layer::Algorithm, nullptr),
                      InstanceAccessor("isa", &Layer::Isa, nullptr),
                      InstanceMethod("plan", &Layer::Plan),
                      InstanceMethod("tune", &Layer::Tune)});
}

Layer::Layer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Layer>(info) {
  params_ = layer_params(info[0]);
  act_ = activation_params(info[0]);
  layer_ = build(info[1], info[2]);
}

std::shared_ptr<const simdconv::ConvLayer> Layer::build(const Napi::Value& weight,
                                                        const Napi::Value& bias) const {
  std::shared_ptr<simdconv::ConvLayer> fresh = build_mutable(weight, bias);
  // A tuned layer (or any under SIMDCONV_TUNE=1) stays tunable, and new
  // weights keep the choices tuned for the old ones.
  if (tunable_ || fresh->tunable()) {
    guard(weight.Env(), [&] {
      fresh->make_tunable(float_array(weight, "weight").data);
      if (layer_ != nullptr) fresh->adopt_tuning(*layer_);
    });
  }
  return fresh;
}

std::shared_ptr<simdconv::ConvLayer> Layer::build_mutable(const Napi::Value& weight,
                                                          const Napi::Value& bias) const {
  Napi::Env env = weight.Env();
  const FloatArray w = float_array(weight, "weight");
  require_length(env, w, params_.weight_elements(), "weight");
  const float* b = nullptr;
  if (!bias.IsNull() && !bias.IsUndefined()) {
    const FloatArray ba = float_array(bias, "bias");
    require_length(env, ba, params_.out_channels, "bias");
    b = ba.data;
  }
  return guard(env, [&] { return std::make_shared<simdconv::ConvLayer>(params_, w.data, b, act_); });
}

Napi::Value Layer::SetWeights(const Napi::CallbackInfo& info) {
  layer_ = build(info[0], info[1]);
  return info.Env().Undefined();
}

Napi::Value Layer::Forward(const Napi::CallbackInfo& info) {
  const Call c = check_call(info, *layer_);
  // A residual sharing memory with out is copied by forward() first.
  const FloatArray r = residual_array(info[5], c.output_length);
  guard(info.Env(), [&] { layer_->forward(c.shape, c.input, c.output, r.data); });
  return info[4];
}

Napi::Value Layer::ForwardAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Call c = check_call(info, *layer_, /*out_optional=*/true);
  const FloatArray residual = residual_array(info[5], c.output_length);
  if (!info[6].IsFunction()) throw Napi::TypeError::New(env, "callback must be a function");
  auto job = std::make_unique<AsyncJob>();
  auto bufs = std::make_shared<OwnedBuffers>();
  bufs->input_length = c.input_length;
  bufs->output_length = c.output_length;
  // Without `out`, the result goes into a Float32Array made here that no JS
  // code can reach before the callback: nothing can detach, resize or free
  // it, so the job writes into it directly (no output copy).
  Napi::Value out = info[4];
  if (c.output == nullptr) {
    Napi::Float32Array result = guard(env, [&] { return Napi::Float32Array::New(env, c.output_length); });
    bufs->result = result.Data();
    out = result;
  }
  guard(env, [&] {
    bufs->input.reset(new float[c.input_length]);
    std::memcpy(bufs->input.get(), c.input, c.input_length * sizeof(float));
    // Snapshotted like the input: what JS does to it later does not matter.
    if (residual.data != nullptr) {
      bufs->residual.reset(new float[residual.length]);
      std::memcpy(bufs->residual.get(), residual.data, residual.length * sizeof(float));
    }
  });
  std::shared_ptr<const simdconv::ConvLayer> layer = layer_;  // the weights this call started with
  const auto* cancel = reinterpret_cast<const volatile int32_t*>(job->cancel.get());
  job->work = [layer, shape = c.shape, bufs, cancel](const volatile int32_t* shutdown) {
    float* dst = bufs->result;
    if (dst == nullptr) {
      bufs->output.reset(new float[bufs->output_length]);
      dst = bufs->output.get();
    }
    layer->forward(shape, bufs->input.get(), dst, bufs->residual.get(),
                   simdconv::CancelFlag{cancel, shutdown});
    // not needed any more: free them before the JS thread gets to the job
    bufs->input.reset();
    bufs->residual.reset();
  };
  job->commit = [bufs](Napi::Env, const std::vector<Napi::ObjectReference>& kept) -> Napi::Value {
    unchanged(kept[0].Value(), bufs->input_length, "input");
    if (bufs->result != nullptr) return kept[1].Value();
    Napi::Float32Array out = unchanged(kept[1].Value(), bufs->output_length, "out");
    std::memcpy(out.Data(), bufs->output.get(), bufs->output_length * sizeof(float));
    return out;
  };
  job->callback = Napi::Persistent(info[6].As<Napi::Function>());
  job->keep_alive.emplace_back(Napi::Persistent(info[0].As<Napi::Object>()));
  job->keep_alive.emplace_back(Napi::Persistent(out.As<Napi::Object>()));
  // The caller's way to cancel: sets the job's own flag (never memory JS can take away).
  std::shared_ptr<std::atomic<int32_t>> flag = job->cancel;
  Napi::Function cancel_fn = Napi::Function::New(
      env,
      [flag](const Napi::CallbackInfo& ci) {
        flag->store(1);
        return ci.Env().Undefined();
      },
      "cancel");
  submit(env, std::move(job));
  return cancel_fn;
}

Napi::Value Layer::Algorithm(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), simdconv::algorithm_name(layer_->algorithm()));
}

Napi::Value Layer::Isa(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), simdconv::isa_name(layer_->isa()));
}

// The plan forward() would run for an input [n, C, h, w] at the current
// thread count (simdconv/plan.h), for `conv.plan(inputShape)`.
Napi::Value Layer::Plan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const simdconv::CallShape s = call_shape(info, 0);
  std::shared_ptr<const simdconv::ConvLayer> layer = layer_;
  const simdconv::Plan pl = guard(env, [&] { return layer->plan(s); });
  const auto num = [&](int64_t v) { return Napi::Number::New(env, double(v)); };
  Napi::Object o = Napi::Object::New(env);
  o.Set("algorithm", simdconv::algorithm_name(pl.algorithm));
  o.Set("layerAlgorithm", simdconv::algorithm_name(pl.layer_algorithm));
  o.Set("microkernel", pl.microkernel);
  o.Set("isa", simdconv::isa_name(pl.isa));
  o.Set("threads", num(pl.threads));
  o.Set("tasks", num(pl.tasks));
  o.Set("workspaceBytes", num(pl.workspace_floats * 4));
  const bool gemm = pl.algorithm == simdconv::Algorithm::Gemm;
  const bool winograd = pl.algorithm == simdconv::Algorithm::Winograd;
  o.Set("sharedBytes", num(gemm && pl.g.shared_b ? pl.g.shared_floats * 4 : 0));
  o.Set("gemmFallback", pl.gemm_fallback);
  o.Set("tuned", layer->tuned(s, pl.threads));
  o.Set("bInPlace", gemm && pl.g.b_in_place);
  o.Set("sharedB", gemm && pl.g.shared_b);
  o.Set("inPlaceDepthwise", !gemm && !winograd && pl.dp.dw_in_place != nullptr);
  Napi::Object b = Napi::Object::New(env);
  if (gemm) {
    b.Set("mr", num(int64_t(pl.gemm->mr)));
    b.Set("nr", num(int64_t(pl.gemm->nr)));
    b.Set("kc", num(int64_t(pl.gemm->kc)));
    b.Set("pixelBlock", num(pl.g.shared_b ? pl.g.chunk_panels * int64_t(pl.gemm->nr) : pl.g.nc));
    b.Set("pixelBlocks", num(pl.g.shared_b ? pl.g.chunks : pl.g.p_tiles));
    b.Set("channelTiles", num(pl.g.shared_b
                                  ? simdconv::shared_chunk_split(pl.g, pl.threads, pl.g.chunk_panels).m_tiles
                                  : pl.g.m_tiles));
  } else if (winograd) {
    b.Set("phases", num(pl.w.phases));
    b.Set("tileRowsPerBlock", num(pl.w.bt));
    b.Set("blocks", num(pl.w.blocks));
    b.Set("channelTiles", num(pl.w.m_tiles));
  } else if (pl.algorithm == simdconv::Algorithm::TransposedGemm) {
    b.Set("mr", num(int64_t(pl.gemm->mr)));
    b.Set("nr", num(int64_t(pl.gemm->nr)));
    b.Set("kc", num(int64_t(pl.gemm->kc)));
    b.Set("bandRows", num(pl.tg.bh));
    b.Set("bands", num(pl.tg.bands));
    b.Set("bandColumns", num(pl.tg.bw));
    b.Set("columnBands", num(pl.tg.col_bands));
  } else if (pl.algorithm == simdconv::Algorithm::TransposedDirect) {
    b.Set("bandRows", num(pl.tp.bh));
    b.Set("bands", num(pl.tp.bands));
  } else {
    b.Set("bandRows", num(pl.dp.bh));
    b.Set("bands", num(pl.dp.bands));
  }
  o.Set("blocking", b);
  return o;
}

// Measured tuning (simdconv/tune.h) for `conv.tune(inputShape)`. The first
// call makes the layer tunable: it is rebuilt from `weight` and `bias` (the
// layer's current ones, which the caller passes) keeping the raw weights.
Napi::Value Layer::Tune(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const simdconv::CallShape s = call_shape(info, 0);
  simdconv::TuneOptions o;
  o.repetitions = int(integer(info[3], "repetitions", 1, 1000));
  if (!info[4].IsNull() && !info[4].IsUndefined()) {
    if (!info[4].IsArray()) throw Napi::TypeError::New(env, "algorithms must be an array of names");
    const Napi::Array names = info[4].As<Napi::Array>();
    for (uint32_t i = 0; i < names.Length(); ++i) {
      const Napi::Value v = names.Get(i);
      simdconv::Algorithm a;
      if (!v.IsString() || !simdconv::algorithm_from_name(v.As<Napi::String>().Utf8Value(), &a))
        throw Napi::RangeError::New(env, "algorithms[" + std::to_string(i) + "] is not an algorithm name");
      o.only.push_back(a);
    }
  }
  if (!layer_->tunable()) {
    std::shared_ptr<simdconv::ConvLayer> fresh = build_mutable(info[5], info[6]);
    guard(env, [&] { fresh->make_tunable(float_array(info[5], "weight").data); });
    layer_ = fresh;
    tunable_ = true;
  }
  std::shared_ptr<const simdconv::ConvLayer> layer = layer_;
  const simdconv::TuneResult r = guard(env, [&] { return layer->tune(s, o); });
  Napi::Object out = Napi::Object::New(env);
  out.Set("chosen", simdconv::algorithm_name(r.chosen));
  out.Set("threads", Napi::Number::New(env, r.threads));
  Napi::Array measured = Napi::Array::New(env, r.measured.size());
  for (size_t i = 0; i < r.measured.size(); ++i) {
    Napi::Object m = Napi::Object::New(env);
    m.Set("algorithm", simdconv::algorithm_name(r.measured[i].algorithm));
    m.Set("medianMs", Napi::Number::New(env, r.measured[i].median_ms));
    measured.Set(uint32_t(i), m);
  }
  out.Set("candidates", measured);
  return out;
}

}  // namespace binding
