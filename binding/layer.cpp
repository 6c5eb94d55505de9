#include "layer.h"

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
};

Call check_call(const Napi::CallbackInfo& info, const simdconv::ConvLayer& layer) {
  Napi::Env env = info.Env();
  const FloatArray in = float_array(info[0], "input");
  const simdconv::CallShape s = call_shape(info, 1);
  const FloatArray out = float_array(info[4], "out");
  const simdconv::LayerParams& p = layer.params();
  const simdconv::OutputSize o = guard(env, [&] { return simdconv::output_size(p, s); });
  require_length(env, in, s.batch * p.in_channels * s.height * s.width, "input");
  require_length(env, out, s.batch * p.out_channels * o.height * o.width, "out");
  const char* in_begin = reinterpret_cast<const char*>(in.data);
  const char* out_begin = reinterpret_cast<const char*>(out.data);
  if (in_begin < out_begin + out.length * 4 && out_begin < in_begin + in.length * 4)
    throw Napi::Error::New(env, "out must not share memory with input");
  return Call{s, in.data, out.data};
}

}  // namespace

Napi::Function Layer::Define(Napi::Env env) {
  return DefineClass(env, "Layer",
                     {InstanceMethod("setWeights", &Layer::SetWeights),
                      InstanceMethod("forward", &Layer::Forward),
                      InstanceMethod("forwardAsync", &Layer::ForwardAsync),
                      InstanceAccessor("algorithm", &Layer::Algorithm, nullptr),
                      InstanceAccessor("isa", &Layer::Isa, nullptr),
                      InstanceMethod("plan", &Layer::Plan)});
}

Layer::Layer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Layer>(info) {
  params_ = layer_params(info[0]);
  layer_ = build(info[1], info[2]);
}

std::shared_ptr<const simdconv::ConvLayer> Layer::build(const Napi::Value& weight,
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
  return guard(env, [&] { return std::make_shared<const simdconv::ConvLayer>(params_, w.data, b); });
}

Napi::Value Layer::SetWeights(const Napi::CallbackInfo& info) {
  layer_ = build(info[0], info[1]);
  return info.Env().Undefined();
}

Napi::Value Layer::Forward(const Napi::CallbackInfo& info) {
  const Call c = check_call(info, *layer_);
  guard(info.Env(), [&] { layer_->forward(c.shape, c.input, c.output); });
  return info[4];
}

Napi::Value Layer::ForwardAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Call c = check_call(info, *layer_);
  const int32_t* cancel = nullptr;
  if (!info[5].IsNull() && !info[5].IsUndefined()) {
    if (!info[5].IsTypedArray() || info[5].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        info[5].As<Napi::Int32Array>().ElementLength() < 1)
      throw Napi::TypeError::New(env, "cancel flag must be an Int32Array of length >= 1");
    cancel = info[5].As<Napi::Int32Array>().Data();
  }
  if (!info[6].IsFunction()) throw Napi::TypeError::New(env, "callback must be a function");
  auto job = std::make_unique<AsyncJob>();
  std::shared_ptr<const simdconv::ConvLayer> layer = layer_;  // the weights this call started with
  job->work = [layer, c, cancel](const volatile int32_t* shutdown) {
    layer->forward(c.shape, c.input, c.output, simdconv::CancelFlag{cancel, shutdown});
  };
  job->callback = Napi::Persistent(info[6].As<Napi::Function>());
  // The typed arrays stay alive until the callback, whatever JS drops.
  for (size_t i : {size_t(0), size_t(4), size_t(5)})
    if (info[i].IsObject()) job->keep_alive.emplace_back(Napi::Persistent(info[i].As<Napi::Object>()));
  submit(env, std::move(job));
  return env.Undefined();
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
  o.Set("bInPlace", gemm && pl.g.b_in_place);
  o.Set("sharedB", gemm && pl.g.shared_b);
  o.Set("inPlaceDepthwise", !gemm && !winograd && pl.dp.dw3_in_place != nullptr);
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
  } else {
    b.Set("bandRows", num(pl.dp.bh));
    b.Set("bands", num(pl.dp.bands));
  }
  o.Set("blocking", b);
  return o;
}

}  // namespace binding
