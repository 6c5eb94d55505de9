// Argument checks shared by the binding's functions. The TypeScript layer has
// already validated everything; these checks exist so that a caller who skips
// it (or swaps data after validation) gets a JS error, never a crash.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

#include "simdconv/conv_params.h"
#include "simdconv/epilogue.h"

namespace binding {

// A Float32Array argument: its data pointer and length (in elements).
struct FloatArray {
  float* data = nullptr;
  size_t length = 0;
};

FloatArray float_array(const Napi::Value& v, const char* name);
// Integer in [min, max], else TypeError/RangeError naming the argument.
int64_t integer(const Napi::Value& v, const char* name, int64_t min, int64_t max);
int64_t integer_field(const Napi::Object& o, const char* field, int64_t min, int64_t max);
// The call's (batch, height, width) from info[first], info[first+1], info[first+2].
simdconv::CallShape call_shape(const Napi::CallbackInfo& info, size_t first);
// Layer geometry from the plain object the JS layer passes.
simdconv::LayerParams layer_params(const Napi::Value& v);
// The fused activation from the same object: optional `activation` (a name
// of epilogue.h, absent = "none"), `activationAlpha`, `activationBeta`
// (leaky_relu: slope, default 0.01; hardtanh: min, max, default -1, 1; elu:
// alpha, default 1; ignored by the other kinds). TypeError/RangeError naming
// the field for a wrong type, an unknown name, a value that is not a finite
// float32, or hardtanh min > max.
simdconv::Activation activation_params(const Napi::Value& v);
// Requires `want` elements exactly. Callers compute `want` only after
// LayerParams::validate() / output_size() accepted the sizes: both refuse,
// with a RangeError naming them, any weight, input or output whose element
// (and byte) count overflows int64, so the product here cannot wrap.
void require_length(Napi::Env env, const FloatArray& a, int64_t want, const char* name);

// Runs f, turning C++ exceptions into JS exceptions of the matching kind.
template <class F>
auto guard(Napi::Env env, F&& f) -> decltype(f());

// Throws the JS error matching a C++ exception currently being handled.
[[noreturn]] void rethrow_as_js(Napi::Env env);

}  // namespace binding

#include "convert_inl.h"
