// The FMA roof loop for AVX-512F: 16-lane FMAs (fma-roof-inl.h).
#include <immintrin.h>

#include "fma-roof-inl.h"

namespace simdconv {
namespace {
struct Avx512Ops {
  using V = __m512;
  static constexpr int kLanes = 16;
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static float first(V a) { return _mm512_cvtss_f32(a); }
};
}  // namespace

double fma_roof_avx512(long iters) { return fma_roof_loop<Avx512Ops>(iters); }

}  // namespace simdconv
