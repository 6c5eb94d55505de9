// `Layer`: a JS object owning one simdconv::ConvLayer (weights packed, algorithm
// chosen). Replacing the weights builds a new ConvLayer and swaps a shared_ptr,
// so a call already running keeps the one it started with: old or new weights,
// never a mix.
#pragma once
#include <napi.h>

#include <memory>

#include "simdconv/conv_layer.h"

namespace binding {

class Layer : public Napi::ObjectWrap<Layer> {
 public:
  static Napi::Function Define(Napi::Env env);
  // (params, weight, bias | null); params may name a fused activation
  // (activation, activationAlpha, activationBeta: convert.h)
  explicit Layer(const Napi::CallbackInfo& info);

 private:
  Napi::Value SetWeights(const Napi::CallbackInfo& info);    // (weight, bias | null)
  Napi::Value Forward(const Napi::CallbackInfo& info);       // (input, n, h, w, out, residual?)
  // (input, n, h, w, out | null, residual | null, cb) -> cancel()
  Napi::Value ForwardAsync(const Napi::CallbackInfo& info);
  Napi::Value Algorithm(const Napi::CallbackInfo& info);
  Napi::Value Isa(const Napi::CallbackInfo& info);
  Napi::Value Plan(const Napi::CallbackInfo& info);  // (n, h, w) -> the plan as a plain object
  // (n, h, w, repetitions, algorithms | null, weight, bias | null) -> what it measured
  Napi::Value Tune(const Napi::CallbackInfo& info);

  std::shared_ptr<const simdconv::ConvLayer> build(const Napi::Value& weight,
                                                   const Napi::Value& bias) const;
  std::shared_ptr<simdconv::ConvLayer> build_mutable(const Napi::Value& weight,
                                                     const Napi::Value& bias) const;

  simdconv::LayerParams params_;
  simdconv::Activation act_;  // every ConvLayer this Layer builds carries it
  std::shared_ptr<const simdconv::ConvLayer> layer_;
  // Set by the first tune(): from then on the layer keeps its raw weights,
  // and a weight replacement keeps the tuned choices (adopt_tuning).
  bool tunable_ = false;
};

}  // namespace binding
