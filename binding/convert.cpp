#include "convert.h"

#include <cmath>
#include <new>
#include <stdexcept>

namespace binding {

FloatArray float_array(const Napi::Value& v, const char* name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(v.Env(), std::string(name) + " must be a Float32Array");
  auto a = v.As<Napi::Float32Array>();
  FloatArray out;
  out.length = a.ElementLength();
  out.data = out.length ? a.Data() : nullptr;
  if (out.length && out.data == nullptr)
    throw Napi::TypeError::New(v.Env(), std::string(name) + " has a detached buffer");
  return out;
}

int64_t integer(const Napi::Value& v, const char* name, int64_t min, int64_t max) {
  if (!v.IsNumber())
    throw Napi::TypeError::New(v.Env(), std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || d < double(min) || d > double(max))
    throw Napi::RangeError::New(v.Env(), std::string(name) + " must be an integer in [" +
                                             std::to_string(min) + ", " + std::to_string(max) +
                                             "], got " + v.ToString().Utf8Value());
  return int64_t(d);
}

int64_t integer_field(const Napi::Object& o, const char* field, int64_t min, int64_t max) {
  return integer(o.Get(field), field, min, max);
}

simdconv::CallShape call_shape(const Napi::CallbackInfo& info, size_t first) {
  constexpr int64_t kMaxDim = int64_t(1) << 31;
  simdconv::CallShape s;
  s.batch = integer(info[first], "batch", 1, kMaxDim);
  s.height = integer(info[first + 1], "height", 1, kMaxDim);
  s.width = integer(info[first + 2], "width", 1, kMaxDim);
  return s;
}

simdconv::LayerParams layer_params(const Napi::Value& v) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), "layer parameters must be an object");
  const auto o = v.As<Napi::Object>();
  constexpr int64_t kMax = int64_t(1) << 31;
  simdconv::LayerParams p;
  p.in_channels = integer_field(o, "inChannels", 1, kMax);
  p.out_channels = integer_field(o, "outChannels", 1, kMax);
  p.kernel_h = integer_field(o, "kernelH", 1, kMax);
  p.kernel_w = integer_field(o, "kernelW", 1, kMax);
  p.stride_h = integer_field(o, "strideH", 1, kMax);
  p.stride_w = integer_field(o, "strideW", 1, kMax);
  p.pad_top = integer_field(o, "padTop", 0, kMax);
  p.pad_bottom = integer_field(o, "padBottom", 0, kMax);
  p.pad_left = integer_field(o, "padLeft", 0, kMax);
  p.pad_right = integer_field(o, "padRight", 0, kMax);
  p.dilation_h = integer_field(o, "dilationH", 1, kMax);
  p.dilation_w = integer_field(o, "dilationW", 1, kMax);
  p.groups = integer_field(o, "groups", 1, kMax);
  p.pad_mode = simdconv::PadMode(integer_field(o, "padMode", 0, 3));
  // ConvTranspose2d: optional, so a Conv2d's parameters need not name them;
  // validate() applies PyTorch's output-padding rule again here.
  if (o.Has("transposed")) {
    const Napi::Value t = o.Get("transposed");
    if (!t.IsBoolean()) throw Napi::TypeError::New(v.Env(), "transposed must be a boolean");
    p.transposed = t.As<Napi::Boolean>().Value();
  }
  if (o.Has("outputPaddingH")) p.output_padding_h = integer_field(o, "outputPaddingH", 0, kMax);
  if (o.Has("outputPaddingW")) p.output_padding_w = integer_field(o, "outputPaddingW", 0, kMax);
  try {
    p.validate();
  } catch (...) {
    rethrow_as_js(v.Env());
  }
  return p;
}

namespace {

// An optional activation parameter: the field's value as a finite float32,
// or `fallback` when the field is absent or undefined.
float activation_number(const Napi::Object& o, const char* field, float fallback) {
  const Napi::Value v = o.Get(field);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(field) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(float(d)))
    throw Napi::RangeError::New(o.Env(), std::string(field) + " must be a finite float32 number, got " +
                                             v.ToString().Utf8Value());
  return float(d);
}

}  // namespace

simdconv::Activation activation_params(const Napi::Value& v) {
  Napi::Env env = v.Env();
  const auto o = v.As<Napi::Object>();
  simdconv::Activation a;
  const Napi::Value name = o.Get("activation");
  if (name.IsUndefined()) return a;
  if (!name.IsString()) throw Napi::TypeError::New(env, "activation must be a string");
  const std::string s = name.As<Napi::String>().Utf8Value();
  if (!simdconv::parse_act_kind(s.c_str(), &a.kind))
    throw Napi::RangeError::New(env, "activation '" + s + "' is not one of none, relu, relu6, leaky_relu, "
                                     "hardtanh, elu, sigmoid, tanh, silu, hardswish, gelu, gelu_tanh");
  // PyTorch's defaults: F.leaky_relu(negative_slope=0.01), F.hardtanh(-1, 1), F.elu(alpha=1)
  const bool hardtanh = a.kind == simdconv::ActKind::Hardtanh;
  const float alpha0 = a.kind == simdconv::ActKind::LeakyRelu ? 0.01f : hardtanh ? -1.0f : 1.0f;
  a.alpha = activation_number(o, "activationAlpha", alpha0);
  a.beta = activation_number(o, "activationBeta", hardtanh ? 1.0f : 0.0f);
  const auto js = [&](float f) { return Napi::Number::New(env, f).ToString().Utf8Value(); };
  if (hardtanh && a.alpha > a.beta)
    throw Napi::RangeError::New(env, "hardtanh: activationAlpha (min_val) " + js(a.alpha) +
                                         " must not be greater than activationBeta (max_val) " + js(a.beta));
  return a;
}

void require_length(Napi::Env env, const FloatArray& a, int64_t want, const char* name) {
  if (int64_t(a.length) != want)
    throw Napi::RangeError::New(env, std::string(name) + " has " + std::to_string(a.length) +
                                         " elements, expected " + std::to_string(want));
}

void rethrow_as_js(Napi::Env env) {
  try {
    throw;
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::length_error& e) {
    throw Napi::RangeError::New(env, e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, "simdconv: out of memory");
  } catch (const std::invalid_argument& e) {
    throw Napi::Error::New(env, e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  } catch (...) {
    throw Napi::Error::New(env, "simdconv: unknown native error");
  }
}

}  // namespace binding
