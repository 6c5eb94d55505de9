// Test support: the fused epilogue's activations (epilogue.h) as PyTorch's
// formulas in double, the accuracy bound each activation kernel states
// (act-inl.h), and how far an activation may move an error in its input: the
// oracle of test_activation_kernels (the kernels alone), test_epilogue (the
// kernels behind every driver) and the fuzzer.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>

#include "simdconv/epilogue.h"

namespace test {
namespace act {

using simdconv::ActKind;
using simdconv::Activation;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// PyTorch's formulas (torch/nn/functional.py, aten/src/ATen/native/cpu/
// Activation.cpp) in double.
inline double reference(const Activation& a, double x) {
  switch (a.kind) {
    case ActKind::None: return x;
    case ActKind::Relu: return x < 0 ? 0.0 : x;  // clamp_min(x, 0): NaN and -0 pass
    case ActKind::Relu6: return x < 0 ? 0.0 : x > 6 ? 6.0 : x;
    case ActKind::Hardtanh: return x < a.alpha ? double(a.alpha) : x > a.beta ? double(a.beta) : x;
    case ActKind::LeakyRelu: return x > 0 ? x : x * a.alpha;
    case ActKind::Elu: return x > 0 ? x : (std::exp(x) - 1.0) * a.alpha;  // exp - 1, not expm1
    case ActKind::Sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case ActKind::Tanh: return std::tanh(x);
    case ActKind::Silu: return x / (1.0 + std::exp(-x));
    case ActKind::Hardswish: {
      if (std::isnan(x)) return x;
      const double p = x * std::min(std::max(x + 3.0, 0.0), 6.0);
      return std::isinf(float(p)) ? p * kInf : p / 6.0;  // x * clamp overflows float first (at +-FLT_MAX)
    }
    case ActKind::Gelu: return x * 0.5 * (1.0 + std::erf(x * 0.70710678118654752));
    case ActKind::GeluTanh:
      return 0.5 * x * (1.0 + std::tanh(0.79788456080286536 * (x + 0.044715 * x * x * x)));
  }
  return kNaN;
}

// The accuracy bound of each activation (act-inl.h states it), in units of
// float's epsilon 2^-23 ("ulp" below): |got - ref| <= ulps * 2^-23 * scale + abs,
// scale = |ref|, or |ref| + |alpha| for ELU (exp(x) - 1) and |ref| + |x| for
// the GELUs (1 + erf(x), 1 + tanh(...)): the formula itself cancels there.
enum class Scale { Ref, RefPlusAlpha, RefPlusX };
struct Bound {
  double ulps;  // 0: exact, the double result rounded to float
  Scale scale;
  double abs;   // absolute slack for subnormal results
};

inline Bound bound_of(ActKind k) {
  switch (k) {
    case ActKind::None:
    case ActKind::Relu:
    case ActKind::Relu6:
    case ActKind::Hardtanh:
    case ActKind::LeakyRelu: return {0, Scale::Ref, 0};
    case ActKind::Hardswish: return {2, Scale::Ref, 0x1p-140};
    case ActKind::Sigmoid:
    case ActKind::Tanh:
    case ActKind::Silu: return {3, Scale::Ref, 0x1p-120};
    case ActKind::Elu: return {2, Scale::RefPlusAlpha, 0x1p-120};
    case ActKind::Gelu:
    case ActKind::GeluTanh: return {1, Scale::RefPlusX, 0x1p-120};
  }
  return {0, Scale::Ref, 0};
}

inline double scale_of(const Bound& b, const Activation& a, double x, double ref) {
  return std::fabs(ref) + (b.scale == Scale::RefPlusX       ? std::fabs(x)
                           : b.scale == Scale::RefPlusAlpha ? std::fabs(double(a.alpha))
                                                            : 0.0);
}

// |act(x) - act(y)| <= lipschitz(a) * |x - y| (hardswish's slope reaches
// 1.5 at x = 3, the GELUs' about 1.13; leaky_relu and elu scale by alpha).
inline double lipschitz(const Activation& a) {
  if (a.kind == ActKind::LeakyRelu || a.kind == ActKind::Elu) return std::max(1.5, std::fabs(double(a.alpha)));
  return 1.5;
}

// Slack for the activation kernel's own error on input x (float) whose exact
// result is `want`, as a layer test allows it: twice the stated bound plus
// one float ulp (the exact kinds round once).
inline double kernel_tol(const Activation& a, double x, double want) {
  const Bound b = bound_of(a.kind);
  return (2 * b.ulps + 1) * 0x1p-23 * scale_of(b, a, x, want) + b.abs;
}

}  // namespace act
}  // namespace test
