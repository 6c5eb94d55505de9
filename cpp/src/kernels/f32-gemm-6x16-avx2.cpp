// AVX2 + FMA GEMM microkernel: 6 rows x 16 columns, 12 ymm accumulators.
// Per k step: two B loads, six A broadcasts, twelve FMAs (one chain per C element).
#include <immintrin.h>

#include "simdconv/gemm_kernel.h"
#include "im2col-pack-inl.h"

namespace simdconv {
namespace {

constexpr size_t MR = 6, NR = 16;

inline __m256i lane_mask(size_t n) {  // first n (0..8) lanes set
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), idx);
}

// B row k at b + k*NR (packed panel, all NR columns present) or, LDB, at
// b + k*ldb straight from the caller's matrix (only the first nr columns
// may be read: masked loads on a partial tile).
template <bool LDB>
void gemm_6x16_avx2_core(size_t kc, const float* a, const float* b, size_t ldb, float* c,
                         size_t ldc, size_t mr, size_t nr, bool accumulate, const float* bias) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  const bool part = LDB && nr < NR;
  const __m256i lm0 = lane_mask(nr < 8 ? nr : 8), lm1 = lane_mask(nr > 8 ? nr - 8 : 0);
  for (size_t k = 0; k < kc; ++k) {
    __m256 b0, b1;
    if (LDB) {
      // the next tile's B of this row (the next call's), fetched meanwhile
      _mm_prefetch(reinterpret_cast<const char*>(b + NR), _MM_HINT_T0);
      if (part) {
        b0 = _mm256_maskload_ps(b, lm0);
        b1 = _mm256_maskload_ps(b + 8, lm1);
      } else {
        b0 = _mm256_loadu_ps(b);
        b1 = _mm256_loadu_ps(b + 8);
      }
    } else {
      b0 = _mm256_loadu_ps(b);
      b1 = _mm256_loadu_ps(b + 8);
    }
    __m256 av;
    av = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31);
    av = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41);
    av = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51);
    a += MR;
    b += LDB ? ldb : NR;
  }
  __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (nr == NR) {
    for (size_t i = 0; i < mr; ++i) {
      float* row = c + i * ldc;
      __m256 v0 = acc[i][0], v1 = acc[i][1];
      if (accumulate) {
        v0 = _mm256_add_ps(v0, _mm256_loadu_ps(row));
        v1 = _mm256_add_ps(v1, _mm256_loadu_ps(row + 8));
      }
      if (bias) {
        const __m256 bv = _mm256_broadcast_ss(bias + i);
        v0 = _mm256_add_ps(v0, bv);
        v1 = _mm256_add_ps(v1, bv);
      }
      _mm256_storeu_ps(row, v0);
      _mm256_storeu_ps(row + 8, v1);
    }
  } else {
    const __m256i m0 = lane_mask(nr < 8 ? nr : 8), m1 = lane_mask(nr > 8 ? nr - 8 : 0);
    for (size_t i = 0; i < mr; ++i) {
      float* row = c + i * ldc;
      __m256 v0 = acc[i][0], v1 = acc[i][1];
      if (accumulate) {
        v0 = _mm256_add_ps(v0, _mm256_maskload_ps(row, m0));
        v1 = _mm256_add_ps(v1, _mm256_maskload_ps(row + 8, m1));
      }
      if (bias) {
        const __m256 bv = _mm256_broadcast_ss(bias + i);
        v0 = _mm256_add_ps(v0, bv);
        v1 = _mm256_add_ps(v1, bv);
      }
      _mm256_maskstore_ps(row, m0, v0);
      _mm256_maskstore_ps(row + 8, m1, v1);
    }
  }
}


void gemm_6x16_avx2(size_t kc, const float* a, const float* b, float* c, size_t ldc, size_t mr,
                    size_t nr, bool accumulate, const float* bias) {
  gemm_6x16_avx2_core<false>(kc, a, b, NR, c, ldc, mr, nr, accumulate, bias);
}

void gemm_6x16_avx2_ldb(size_t kc, const float* a, const float* b, size_t ldb, float* c,
                        size_t ldc, size_t mr, size_t nr, bool accumulate, const float* bias) {
  gemm_6x16_avx2_core<true>(kc, a, b, ldb, c, ldc, mr, nr, accumulate, bias);
}

void pack_avx2(const LayerParams& p, const Im2colSource& src, int64_t k0, int64_t kc_len,
               int64_t p0, int64_t np, int64_t panel_stride, float* dst) {
  pack_im2col_impl<int(NR)>(p, src, k0, kc_len, p0, np, panel_stride, dst);
}

}  // namespace

const GemmKernel kGemmAvx2 = {Isa::Avx2, "f32-gemm-6x16-avx2", MR, NR, 256, 768,
                              gemm_6x16_avx2, pack_avx2, nullptr, 0, 0, gemm_6x16_avx2_ldb, 128};

}  // namespace simdconv
