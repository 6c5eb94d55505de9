// AVX-512 GEMM microkernel: MR rows x 32 columns (two zmm per row), MR*2 zmm
// accumulators; A is broadcast straight from memory into the FMA. Column
// tails use masked loads/stores.
#include <immintrin.h>

#include "simdconv/gemm_kernel.h"
#include "im2col-pack-inl.h"

namespace simdconv {
namespace {

constexpr size_t NR = 32;
constexpr size_t MR = 8;  // the tail kernel reads one MR = 8 panel row as a ymm

// B row k of the tile: packed (LDB == false) at b + k*NR, all NR columns
// present (padding included); or straight from the caller's matrix (LDB) at
// b + k*ldb, where only the first nr columns may be read (masked loads).

// A tile of at most 16 columns (the last micro-panel of a pixel range): one
// zmm per row, so the empty half of the panel costs no FMAs. Same FMA chain
// per C element as the full kernel.
template <size_t MR, bool LDB>
void gemm_avx512_half(size_t kc, const float* a, const float* b, size_t ldb, float* c, size_t ldc,
                      size_t mr, size_t nr, bool accumulate, const float* bias) {
  const __mmask16 m0 = nr >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << nr) - 1);
  __m512 acc0[MR];
#pragma GCC unroll 16
  for (size_t i = 0; i < MR; ++i) acc0[i] = _mm512_setzero_ps();
  for (size_t k = 0; k < kc; ++k) {
    const __m512 b0 = LDB ? _mm512_maskz_loadu_ps(m0, b) : _mm512_loadu_ps(b);
#pragma GCC unroll 16
    for (size_t i = 0; i < MR; ++i) acc0[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i]), b0, acc0[i]);
    a += MR;
    b += LDB ? ldb : NR;
  }
#pragma GCC unroll 16
  for (size_t i = 0; i < MR; ++i) {
    if (i >= mr) break;
    float* row = c + i * ldc;
    __m512 v0 = acc0[i];
    if (accumulate) v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, row));
    if (bias) v0 = _mm512_add_ps(v0, _mm512_set1_ps(bias[i]));
    _mm512_mask_storeu_ps(row, m0, v0);
  }
}

template <size_t MR, bool LDB>
void gemm_avx512_core(size_t kc, const float* a, const float* b, size_t ldb, float* c, size_t ldc,
                      size_t mr, size_t nr, bool accumulate, const float* bias) {
  if (nr <= 16) {
    gemm_avx512_half<MR, LDB>(kc, a, b, ldb, c, ldc, mr, nr, accumulate, bias);
    return;
  }
  const __mmask16 m0 = nr >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32 ? __mmask16(0xFFFF) : nr <= 16 ? __mmask16(0) : __mmask16((1u << (nr - 16)) - 1);
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 16
  for (size_t i = 0; i < MR; ++i) acc0[i] = acc1[i] = _mm512_setzero_ps();
  for (size_t k = 0; k < kc; ++k) {
    __m512 b0, b1;
    if (LDB) {
      // B comes from a strided matrix, not a panel the packing pass just
      // wrote: fetch the next tile's columns of this row (the next call's B)
      // while this one computes.
      _mm_prefetch(reinterpret_cast<const char*>(b + NR), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(b + NR + 16), _MM_HINT_T0);
      b0 = _mm512_loadu_ps(b);
      b1 = _mm512_maskz_loadu_ps(m1, b + 16);
    } else {
      b0 = _mm512_loadu_ps(b);
      b1 = _mm512_loadu_ps(b + 16);
    }
#pragma GCC unroll 16
    for (size_t i = 0; i < MR; ++i) {
      const __m512 av = _mm512_set1_ps(a[i]);
      acc0[i] = _mm512_fmadd_ps(av, b0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(av, b1, acc1[i]);
    }
    a += MR;
    b += LDB ? ldb : NR;
  }
#pragma GCC unroll 16
  for (size_t i = 0; i < MR; ++i) {
    if (i >= mr) break;
    float* row = c + i * ldc;
    __m512 v0 = acc0[i], v1 = acc1[i];
    if (accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, row));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, row + 16));
    }
    if (bias) {
      const __m512 bv = _mm512_set1_ps(bias[i]);
      v0 = _mm512_add_ps(v0, bv);
      v1 = _mm512_add_ps(v1, bv);
    }
    _mm512_mask_storeu_ps(row, m0, v0);
    _mm512_mask_storeu_ps(row + 16, m1, v1);
  }
}

template <size_t MR>
void gemm_avx512(size_t kc, const float* a, const float* b, float* c, size_t ldc, size_t mr,
                 size_t nr, bool accumulate, const float* bias) {
  gemm_avx512_core<MR, false>(kc, a, b, NR, c, ldc, mr, nr, accumulate, bias);
}

template <size_t MR>
void gemm_avx512_ldb(size_t kc, const float* a, const float* b, size_t ldb, float* c, size_t ldc,
                     size_t mr, size_t nr, bool accumulate, const float* bias) {
  gemm_avx512_core<MR, true>(kc, a, b, ldb, c, ldc, mr, nr, accumulate, bias);
}

// Narrow tile (nr <= 8 columns, e.g. the 4 pixels left of 196 = 6*32 + 4):
// the lanes run along the output channels, four MR=8 A micro-panels (32 rows)
// at a time, so no FMA lane is wasted on absent columns. Each C element is
// still one FMA chain over k from zero, then + C, then + bias, as above.
template <size_t NC>
void gemm_avx512_tail_n(size_t kc, const float* a, size_t a_stride, size_t panels, const float* b,
                        float* c, size_t ldc, size_t rows, bool accumulate, const float* bias) {
  const float* a0 = a;
  const float* a1 = panels > 1 ? a + a_stride : a0;
  const float* a2 = panels > 2 ? a + 2 * a_stride : a1;
  const float* a3 = panels > 3 ? a + 3 * a_stride : a2;
  __m512 acc0[NC], acc1[NC];
#pragma GCC unroll 8
  for (size_t j = 0; j < NC; ++j) acc0[j] = acc1[j] = _mm512_setzero_ps();
  for (size_t k = 0; k < kc; ++k) {
    const __m512 x0 = _mm512_insertf32x8(_mm512_maskz_broadcast_f32x8(0xFFFF, _mm256_loadu_ps(a0 + k * 8)),
                                          _mm256_loadu_ps(a1 + k * 8), 1);
    const __m512 x1 = _mm512_insertf32x8(_mm512_maskz_broadcast_f32x8(0xFFFF, _mm256_loadu_ps(a2 + k * 8)),
                                          _mm256_loadu_ps(a3 + k * 8), 1);
    const float* bk = b + k * NR;
#pragma GCC unroll 8
    for (size_t j = 0; j < NC; ++j) {
      const __m512 bv = _mm512_set1_ps(bk[j]);
      acc0[j] = _mm512_fmadd_ps(bv, x0, acc0[j]);
      acc1[j] = _mm512_fmadd_ps(bv, x1, acc1[j]);
    }
  }
  alignas(64) float t[NC][32];
#pragma GCC unroll 8
  for (size_t j = 0; j < NC; ++j) {
    _mm512_store_ps(t[j], acc0[j]);
    _mm512_store_ps(t[j] + 16, acc1[j]);
  }
  for (size_t i = 0; i < rows; ++i) {
    float* row = c + i * ldc;
#pragma GCC unroll 8
    for (size_t j = 0; j < NC; ++j) {
      float v = t[j][i];
      if (accumulate) v = v + row[j];
      if (bias) v = v + bias[i];
      row[j] = v;
    }
  }
}

void gemm_avx512_tail(size_t kc, const float* a, size_t a_stride, size_t panels, const float* b,
                      float* c, size_t ldc, size_t rows, size_t nr, bool accumulate,
                      const float* bias) {
  switch (nr) {
    case 1: gemm_avx512_tail_n<1>(kc, a, a_stride, panels, b, c, ldc, rows, accumulate, bias); break;
    case 2: gemm_avx512_tail_n<2>(kc, a, a_stride, panels, b, c, ldc, rows, accumulate, bias); break;
    case 3: gemm_avx512_tail_n<3>(kc, a, a_stride, panels, b, c, ldc, rows, accumulate, bias); break;
    case 4: gemm_avx512_tail_n<4>(kc, a, a_stride, panels, b, c, ldc, rows, accumulate, bias); break;
    case 5: gemm_avx512_tail_n<5>(kc, a, a_stride, panels, b, c, ldc, rows, accumulate, bias); break;
    case 6: gemm_avx512_tail_n<6>(kc, a, a_stride, panels, b, c, ldc, rows, accumulate, bias); break;
    case 7: gemm_avx512_tail_n<7>(kc, a, a_stride, panels, b, c, ldc, rows, accumulate, bias); break;
    default: gemm_avx512_tail_n<8>(kc, a, a_stride, panels, b, c, ldc, rows, accumulate, bias); break;
  }
}

void pack_avx512(const LayerParams& p, const Im2colSource& src, int64_t k0, int64_t kc_len,
                 int64_t p0, int64_t np, int64_t panel_stride, float* dst) {
  pack_im2col_impl<int(NR)>(p, src, k0, kc_len, p0, np, panel_stride, dst);
}

}  // namespace

const GemmKernel kGemmAvx512 = {Isa::Avx512, "f32-gemm-8x32-avx512", MR, NR, 256, 512,
                                gemm_avx512<MR>, pack_avx512, gemm_avx512_tail, 8, 4,
                                gemm_avx512_ldb<MR>,
                                // in place, B rows are a plane apart: a K sub-block of
                                // 128 keeps a strided tile's rows in L1
                                128};

}  // namespace simdconv
