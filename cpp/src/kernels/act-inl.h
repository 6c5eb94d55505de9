// The activation kernel (activation_kernel.h) for the ISA of the including
// file: y[i] = act(y[i] + residual[i]) in vectors of AV (act-vec-inl.h),
// the last n % kW elements in one vector that reads and writes only them.
//
// Each activation is PyTorch 1.13's formula (activation_kernel.h), in the
// same order of float operations (gelu_tanh's x + k*x^3 aside: one FMA), so
// the special values (NaN, +-inf, -0,
// overflow of exp and of x^3) come out as PyTorch's. The transcendental
// parts are range reduction + polynomial (Cody-Waite reduction by ln 2,
// Taylor polynomials for exp and expm1, least-squares fits for erf):
//   exp(y):   2^n * p(r), r = y - n ln2 in [-ln2/2, ln2/2], degree-7 Taylor
//             (truncation < 6e-9 relative); 2^n applied as two factors so
//             overflow gives +inf and subnormal results round once.
//   expm1(z), z <= 0, for tanh: 2^n * q(r) + (2^n - 1), q(r) = expm1(r) to
//             degree 8, exact -1 below -17.5 (where expm1 rounds to -1).
//   tanh(x):  t/(t+2), t = expm1(-2|x|), sign of x restored.
//   erf(z):   z*P(z^2) for |z| < 1 (relative error < 2^-22 in float);
//             1 - exp(-z^2)*Q(|z|) for 1 <= |z| < 4 (Q fits erfc(z)*exp(z^2),
//             absolute error < 2^-24), 1 beyond (erf rounds to 1 in float).
//             P and Q: least-squares fits on Chebyshev nodes against double
//             erf/erfc, coefficients rounded to float.
// Accuracy against the formula evaluated in double (checked by
// cpp/tests/test_activation_kernels.cpp, bound_of() there), with ulp :=
// 2^-23 * scale: relu, relu6, hardtanh, leaky_relu exact (correctly
// rounded); hardswish <= 2 ulp and sigmoid, tanh, silu <= 3 ulp of |y|;
// elu <= 2 ulp of |y| + |alpha|; gelu, gelu_tanh <= 1 ulp of |y| + |x|
// (exp(x) - 1, 1 + erf, 1 + tanh cancel in PyTorch's formulas too); plus
// 2^-120 absolute for subnormal results. The largest errors seen over every
// 257th float: sigmoid, silu 2.5, tanh 1.4, hardswish 1.2, elu 1.1,
// gelu, gelu_tanh 0.64. NaN in gives NaN out (a NaN blend where min/max
// would lose it).
#pragma once
#include <cstddef>

#include "act-vec-inl.h"
#include "simdconv/activation_kernel.h"

namespace simdconv {
namespace {

using VT = AV::T;

// Polynomial c[0] + c[1] t + ... + c[N-1] t^(N-1) by Horner's rule.
template <size_t N>
VT horner(VT t, const float (&c)[N]) {
  VT acc = AV::set1(c[N - 1]);
  for (size_t i = N - 1; i-- > 0;) acc = AV::fma(acc, t, AV::set1(c[i]));
  return acc;
}

constexpr float kLog2e = 1.44269504f;
// ln 2 split so that n * kLn2Hi is exact for |n| < 2^8 (kLn2Hi has 16
// significant bits): r = y - n ln2 then loses nothing to cancellation.
constexpr float kLn2Hi = 0.693145751953125f;
constexpr float kLn2Lo = 1.42860677e-06f;

// y - n ln2 for integral n.
VT reduce_ln2(VT y, VT n) { return AV::fnma(n, AV::set1(kLn2Lo), AV::fnma(n, AV::set1(kLn2Hi), y)); }

// exp(y) for every non-NaN y (NaN: unspecified, callers restore it).
VT exp_(VT y) {
  // Beyond these exp overflows / underflows to 0 anyway; the clamp keeps n
  // within the two factors' range ([-159, 128] -> each in [-80, 64]).
  y = AV::min(AV::max(y, AV::set1(-110.0f)), AV::set1(89.0f));
  const VT n = AV::round(AV::mul(y, AV::set1(kLog2e)));
  const VT r = reduce_ln2(y, n);
  static constexpr float c[] = {1.0f, 1.0f, 1.0f / 2, 1.0f / 6, 1.0f / 24, 1.0f / 120, 1.0f / 720, 1.0f / 5040};
  const VT p = horner(r, c);
  const VT n1 = AV::floor(AV::mul(n, AV::set1(0.5f)));
  return AV::mul(AV::mul(p, AV::pow2i(n1)), AV::pow2i(AV::sub(n, n1)));
}

// expm1(z) for z <= 0 (and -0 -> -0; larger z: unspecified, callers blend
// those lanes away; NaN: unspecified).
VT expm1_neg(VT z) {
  const VT zc = AV::min(AV::max(z, AV::set1(-17.5f)), AV::set1(0.0f));
  const VT n = AV::round(AV::mul(zc, AV::set1(kLog2e)));
  const VT r = reduce_ln2(zc, n);
  // expm1(r) = r + r^2 (1/2 + r/6 + ... + r^6/8!)
  static constexpr float c[] = {1.0f / 2,   1.0f / 6,    1.0f / 24,    1.0f / 120,
                                1.0f / 720, 1.0f / 5040, 1.0f / 40320};
  const VT q = AV::fma(AV::mul(r, r), horner(r, c), r);
  const VT s = AV::pow2i(n);  // n in [-25, 0]
  const VT e = AV::fma(q, s, AV::sub(s, AV::set1(1.0f)));
  return AV::select(AV::eq(z, AV::set1(0.0f)), z, e);  // the sign of a zero
}

// Odd, through expm1 of a non-positive argument (no overflow, no cancellation).
VT tanh_(VT x) {
  const VT t = expm1_neg(AV::mul(AV::abs(x), AV::set1(-2.0f)));
  const VT th = AV::div(t, AV::add(t, AV::set1(2.0f)));  // tanh(-|x|) <= 0
  return AV::or_bits(AV::abs(th), AV::sign_bits(x));
}

VT erf_(VT z) {
  const VT a = AV::abs(z);
  static constexpr float p[] = {1.12837911f,    -0.376124144f, 0.112807892f,
                                -0.0267269891f, 0.0049345186f, -0.000569671276f};
  const VT small = AV::mul(z, horner(AV::mul(z, z), p));
  // Q(t) ~ erfc(x) exp(x^2) at x = t + 2.5, for x in [1, 4].
  static constexpr float q[] = {0.210806355f,     -0.0743476003f,  0.0249382034f,   -0.00799934566f,
                                0.00246598246f,   -0.000738997594f, 0.000212972081f, -5.35858089e-05f,
                                1.43536627e-05f,  -6.38608572e-06f, 1.67180178e-06f};
  const VT ac = AV::min(a, AV::set1(4.0f));
  const VT ec = AV::mul(exp_(AV::mul(AV::mul(ac, ac), AV::set1(-1.0f))), horner(AV::sub(ac, AV::set1(2.5f)), q));
  const VT large = AV::or_bits(AV::sub(AV::set1(1.0f), ec), AV::sign_bits(z));
  return AV::select(AV::lt(a, AV::set1(1.0f)), small, large);
}

VT keep_nan(VT x, VT y) { return AV::select(AV::is_nan(x), x, y); }

// Runs f over y[0, n) with the residual added first.
template <class F>
void act_loop(float* y, const float* res, size_t n, const F& f) {
  constexpr size_t kW = AV::kW;
  size_t i = 0;
  if (res != nullptr) {
    for (; i + kW <= n; i += kW) AV::store(y + i, f(AV::add(AV::load(y + i), AV::load(res + i))));
    if (i < n) AV::store_n(y + i, f(AV::add(AV::load_n(y + i, n - i), AV::load_n(res + i, n - i))), n - i);
  } else {
    for (; i + kW <= n; i += kW) AV::store(y + i, f(AV::load(y + i)));
    if (i < n) AV::store_n(y + i, f(AV::load_n(y + i, n - i)), n - i);
  }
}

// x < lo ? lo : x > hi ? hi : x: NaN and -0 pass through (PyTorch's clamp).
VT clamp_keep_nan(VT x, VT lo, VT hi) {
  return AV::select(AV::lt(x, lo), lo, AV::select(AV::gt(x, hi), hi, x));
}

void act_apply(const Activation& act, float* y, const float* res, size_t n) {
  const VT zero = AV::set1(0.0f), one = AV::set1(1.0f), half = AV::set1(0.5f);
  switch (act.kind) {
    case ActKind::None:
      if (res != nullptr) act_loop(y, res, n, [](VT x) { return x; });
      return;
    case ActKind::Relu:
      act_loop(y, res, n, [=](VT x) { return AV::select(AV::lt(x, zero), zero, x); });
      return;
    case ActKind::Relu6: {
      const VT six = AV::set1(6.0f);
      act_loop(y, res, n, [=](VT x) { return clamp_keep_nan(x, zero, six); });
      return;
    }
    case ActKind::Hardtanh: {
      const VT lo = AV::set1(act.alpha), hi = AV::set1(act.beta);
      act_loop(y, res, n, [=](VT x) { return clamp_keep_nan(x, lo, hi); });
      return;
    }
    case ActKind::LeakyRelu: {
      const VT slope = AV::set1(act.alpha);
      act_loop(y, res, n, [=](VT x) { return AV::select(AV::gt(x, zero), x, AV::mul(x, slope)); });
      return;
    }
    case ActKind::Elu: {
      const VT alpha = AV::set1(act.alpha);
      act_loop(y, res, n, [=](VT x) {
        // PyTorch's ELU is (exp(x) - 1) * alpha, not expm1: near 0 it
        // cancels (elu(-0) is +0, elu(-1e-38) is 0); so does this.
        return keep_nan(x, AV::select(AV::gt(x, zero), x, AV::mul(AV::sub(exp_(x), one), alpha)));
      });
      return;
    }
    case ActKind::Sigmoid:
      act_loop(y, res, n, [=](VT x) {
        return keep_nan(x, AV::div(one, AV::add(one, exp_(AV::sub(zero, x)))));
      });
      return;
    case ActKind::Tanh:
      act_loop(y, res, n, [=](VT x) { return keep_nan(x, tanh_(x)); });
      return;
    case ActKind::Silu:
      act_loop(y, res, n, [=](VT x) { return keep_nan(x, AV::div(x, AV::add(one, exp_(AV::sub(zero, x))))); });
      return;
    case ActKind::Hardswish: {
      const VT three = AV::set1(3.0f), six = AV::set1(6.0f);
      act_loop(y, res, n, [=](VT x) {
        const VT c = AV::min(AV::max(AV::add(x, three), zero), six);
        return keep_nan(x, AV::div(AV::mul(x, c), six));
      });
      return;
    }
    case ActKind::Gelu: {
      const VT rsqrt2 = AV::set1(0.707106781f);
      act_loop(y, res, n, [=](VT x) {
        return keep_nan(x, AV::mul(AV::mul(x, half), AV::add(one, erf_(AV::mul(x, rsqrt2)))));
      });
      return;
    }
    case ActKind::GeluTanh: {
      const VT beta = AV::set1(0.797884561f), kappa = AV::set1(0.044715f);
      act_loop(y, res, n, [=](VT x) {
        const VT inner = AV::mul(beta, AV::fma(kappa, AV::mul(AV::mul(x, x), x), x));
        return keep_nan(x, AV::mul(AV::mul(half, x), AV::add(one, tanh_(inner))));
      });
      return;
    }
  }
}

}  // namespace
}  // namespace simdconv
