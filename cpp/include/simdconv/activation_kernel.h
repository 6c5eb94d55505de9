// The fused epilogue's activation kernels (epilogue.h), one per ISA, each
// y[i] = act(y[i] + residual[i]) over a contiguous run, reached through the
// capability table (kernels_for(isa)->act, kernels.h).
//
// Semantics are PyTorch 1.13's (CPU) F.* formulas, evaluated in float:
//   relu, relu6, hardtanh: clamps that keep NaN; leaky_relu: x > 0 ? x : x*slope;
//   elu: x > 0 ? x : (exp(x)-1)*alpha (not expm1: elu(-0) is +0); sigmoid: 1/(1+exp(-x)); silu: x/(1+exp(-x));
//   tanh; hardswish: x*min(max(x+3, 0), 6)/6; gelu: x*0.5*(1+erf(x/sqrt(2)));
//   gelu_tanh: 0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715*x^3))).
// So the special values are PyTorch's: NaN in gives NaN out, +-inf give the
// formula's value there (e.g. silu(-inf), hardswish(-inf), gelu(-inf) are
// NaN in PyTorch too: -inf * 0), and -0 keeps its sign where PyTorch's does.
// Accuracy of the SIMD kernels against the same formula in double precision
// is stated in act-inl.h and checked by cpp/tests/test_activation_kernels.cpp.
#pragma once
#include "simdconv/epilogue.h"

namespace simdconv {

extern const ActivationKernel kActScalar;
#if defined(SIMDCONV_HAVE_AVX2)
extern const ActivationKernel kActAvx2;
#endif
#if defined(SIMDCONV_HAVE_AVX512)
extern const ActivationKernel kActAvx512;
#endif
#if defined(SIMDCONV_HAVE_NEON)
extern const ActivationKernel kActNeon;
#endif

}  // namespace simdconv
