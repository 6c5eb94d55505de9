// The FMA roof loop for AVX2 + FMA3: 8-lane FMAs (fma-roof-inl.h).
#include <immintrin.h>

#include "fma-roof-inl.h"

namespace simdconv {
namespace {
struct Avx2Ops {
  using V = __m256;
  static constexpr int kLanes = 8;
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static float first(V a) { return _mm256_cvtss_f32(a); }
};
}  // namespace

double fma_roof_avx2(long iters) { return fma_roof_loop<Avx2Ops>(iters); }

}  // namespace simdconv
