// Test support: the fused epilogue's activations (epilogue.h) as PyTorch's
// F.* formulas in double, the oracle the layer tests and the fuzzer compare
// the kernels' float results with, and how far each may move an error in
// its input (its Lipschitz bound).
#pragma once
#include <algorithm>
#include <cmath>

#include "simdconv/epilogue.h"

namespace test {

inline double act_ref(const simdconv::Activation& a, double x) {
  using simdconv::ActKind;
  if (std::isnan(x)) return x;
  switch (a.kind) {
    case ActKind::None: return x;
    case ActKind::Relu: return x > 0 ? x : 0.0;
    case ActKind::Relu6: return std::min(std::max(x, 0.0), 6.0);
    case ActKind::LeakyRelu: return x > 0 ? x : x * a.alpha;
    case ActKind::Hardtanh: return std::min(std::max(x, double(a.alpha)), double(a.beta));
    case ActKind::Elu: return x > 0 ? x : a.alpha * std::expm1(x);
    case ActKind::Sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case ActKind::Tanh: return std::tanh(x);
    case ActKind::Silu: return x / (1.0 + std::exp(-x));
    case ActKind::Hardswish: return x * std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0;
    case ActKind::Gelu: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case ActKind::GeluTanh: {
      const double k = std::sqrt(2.0 / 3.14159265358979323846);
      return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
    }
  }
  return x;
}

// |act(x) - act(y)| <= act_lipschitz(a) * |x - y| (hardswish's slope reaches
// 1.5 at x = 3; gelu's about 1.13; leaky_relu and elu scale by alpha).
inline double act_lipschitz(const simdconv::Activation& a) {
  using simdconv::ActKind;
  if (a.kind == ActKind::LeakyRelu || a.kind == ActKind::Elu) return std::max(1.5, std::fabs(double(a.alpha)));
  return 1.5;
}

// The activation kernels' own error bound on top of the float input's
// (activation_kernel.h, act-inl.h: at most 4 float ulps of |y| + |x| for
// gelu, of |y| + alpha for elu, less for the others), doubled: pre is the
// kernel's input x, want the result in double.
inline double act_kernel_tol(const simdconv::Activation& a, double pre, double want) {
  return 8 * 1.1920929e-7 * (std::fabs(want) + std::fabs(pre) + std::fabs(double(a.alpha))) + 1e-30;
}

}  // namespace test
