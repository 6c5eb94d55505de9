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
                      InstanceAccessor("isa", &Layer::Isa, nullptr)});
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

}  // namespace binding
