// The fused epilogue: y = act(conv(x) + bias + residual), applied by every
// driver to each output tile it has just written (while the tile is still
// in cache), so that no separate pass over the output runs afterwards.
//
// The bias is added by the convolution kernels themselves; the epilogue
// kernel adds the residual (when there is one) and applies the activation.
// One ActivationKernel per ISA (the capability table, kernels.h); each
// matches PyTorch's functional form (F.relu, F.relu6, F.leaky_relu,
// F.hardtanh, F.elu, F.sigmoid, F.tanh, F.silu, F.hardswish, F.gelu with
// approximate='none' or 'tanh') within the parity tolerance, NaN in gives
// NaN out, and +-inf give the function's limits.
#pragma once
#include <cstddef>
#include <cstdint>

namespace simdconv {

enum class ActKind : int32_t {
  None = 0,
  Relu,
  Relu6,
  LeakyRelu,  // alpha: negative_slope
  Hardtanh,   // alpha: min_val, beta: max_val
  Elu,        // alpha
  Sigmoid,
  Tanh,
  Silu,
  Hardswish,
  Gelu,      // approximate='none': x * Phi(x), Phi through erf
  GeluTanh,  // approximate='tanh'
};

struct Activation {
  ActKind kind = ActKind::None;
  float alpha = 0.0f;
  float beta = 0.0f;
};

// Names as the binding and the tests spell them ("none", "relu", "relu6",
// "leaky_relu", "hardtanh", "elu", "sigmoid", "tanh", "silu", "hardswish",
// "gelu", "gelu_tanh"); nullptr-safe: parse returns false for an unknown name.
const char* act_kind_name(ActKind k);
bool parse_act_kind(const char* name, ActKind* out);

// y[i] = act(y[i] + (residual ? residual[i] : 0)) for i < n. residual may be
// nullptr; it never aliases y (the caller copies it first when it would).
using ActivationFn = void (*)(const Activation& a, float* y, const float* residual, size_t n);

struct ActivationKernel {
  const char* name;  // e.g. "f32-act-avx2"
  ActivationFn apply;
};

// What a call's epilogue is: nothing to do when act.kind is None and there
// is no residual (the drivers then skip it entirely).
struct Epilogue {
  Activation act;
  const float* residual = nullptr;  // same layout and size as the output, or nullptr
  bool active() const { return act.kind != ActKind::None || residual != nullptr; }
};

}  // namespace simdconv
