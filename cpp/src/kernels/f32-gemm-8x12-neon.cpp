// AArch64 Advanced SIMD (NEON) GEMM microkernel: an 8 x 12 tile of C
// (8 output channels x 12 output pixels) held in 24 q registers; per k step
// two 128-bit loads of A (8 weights), three of B (12 pixels) and 24
// lane-broadcast FMAs (vfmaq_laneq_f32). 24 accumulators + 5 operands = 29 of
// the 32 vector registers, so nothing spills.
//
// NEON is baseline on AArch64: this file needs no extra compiler flags.
//
// Contract (gemm_kernel.h): every C element is one FMA chain over k in
// increasing order starting from 0, then (+ old C when accumulating), then
// (+ bias). Partial tiles compute the full 8 x 12 tile in registers and store
// only mr x nr elements with the same arithmetic, so a value never depends on
// where its tile sits.
#include <arm_neon.h>

#include "simdconv/gemm_kernel.h"
#include "im2col-pack-inl.h"

namespace simdconv {
namespace {

constexpr size_t MR = 8, NR = 12;

// One full row of 12: (acc [+ C]) [+ bias], stored.
inline void store_row(float* row, float32x4_t x0, float32x4_t x1, float32x4_t x2,
                      bool accumulate, const float* bias, size_t i) {
  if (accumulate) {
    x0 = vaddq_f32(x0, vld1q_f32(row));
    x1 = vaddq_f32(x1, vld1q_f32(row + 4));
    x2 = vaddq_f32(x2, vld1q_f32(row + 8));
  }
  if (bias) {
    const float32x4_t bv = vdupq_n_f32(bias[i]);
    x0 = vaddq_f32(x0, bv);
    x1 = vaddq_f32(x1, bv);
    x2 = vaddq_f32(x2, bv);
  }
  vst1q_f32(row, x0);
  vst1q_f32(row + 4, x1);
  vst1q_f32(row + 8, x2);
}

void gemm_8x12_neon(size_t kc, const float* a, const float* b, float* c, size_t ldc,
                    size_t mr, size_t nr, bool accumulate, const float* bias) {
  float32x4_t c00 = vdupq_n_f32(0.0f), c01 = c00, c02 = c00;
  float32x4_t c10 = c00, c11 = c00, c12 = c00;
  float32x4_t c20 = c00, c21 = c00, c22 = c00;
  float32x4_t c30 = c00, c31 = c00, c32 = c00;
  float32x4_t c40 = c00, c41 = c00, c42 = c00;
  float32x4_t c50 = c00, c51 = c00, c52 = c00;
  float32x4_t c60 = c00, c61 = c00, c62 = c00;
  float32x4_t c70 = c00, c71 = c00, c72 = c00;

#define SIMDCONV_NEON_ROW(i, av, lane)                 \
  c##i##0 = vfmaq_laneq_f32(c##i##0, b0, av, lane);    \
  c##i##1 = vfmaq_laneq_f32(c##i##1, b1, av, lane);    \
  c##i##2 = vfmaq_laneq_f32(c##i##2, b2, av, lane)

  for (size_t k = 0; k < kc; ++k, a += MR, b += NR) {
    const float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
    const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
    SIMDCONV_NEON_ROW(0, a0, 0);
    SIMDCONV_NEON_ROW(1, a0, 1);
    SIMDCONV_NEON_ROW(2, a0, 2);
    SIMDCONV_NEON_ROW(3, a0, 3);
    SIMDCONV_NEON_ROW(4, a1, 0);
    SIMDCONV_NEON_ROW(5, a1, 1);
    SIMDCONV_NEON_ROW(6, a1, 2);
    SIMDCONV_NEON_ROW(7, a1, 3);
  }
#undef SIMDCONV_NEON_ROW

  if (mr == MR && nr == NR) {  // the common case: whole tile, vector stores
    store_row(c + 0 * ldc, c00, c01, c02, accumulate, bias, 0);
    store_row(c + 1 * ldc, c10, c11, c12, accumulate, bias, 1);
    store_row(c + 2 * ldc, c20, c21, c22, accumulate, bias, 2);
    store_row(c + 3 * ldc, c30, c31, c32, accumulate, bias, 3);
    store_row(c + 4 * ldc, c40, c41, c42, accumulate, bias, 4);
    store_row(c + 5 * ldc, c50, c51, c52, accumulate, bias, 5);
    store_row(c + 6 * ldc, c60, c61, c62, accumulate, bias, 6);
    store_row(c + 7 * ldc, c70, c71, c72, accumulate, bias, 7);
    return;
  }

  // Edge tile: spill the accumulators and store only rows < mr, columns < nr.
  float tile[MR * NR];
  vst1q_f32(tile + 0 * NR, c00); vst1q_f32(tile + 0 * NR + 4, c01); vst1q_f32(tile + 0 * NR + 8, c02);
  vst1q_f32(tile + 1 * NR, c10); vst1q_f32(tile + 1 * NR + 4, c11); vst1q_f32(tile + 1 * NR + 8, c12);
  vst1q_f32(tile + 2 * NR, c20); vst1q_f32(tile + 2 * NR + 4, c21); vst1q_f32(tile + 2 * NR + 8, c22);
  vst1q_f32(tile + 3 * NR, c30); vst1q_f32(tile + 3 * NR + 4, c31); vst1q_f32(tile + 3 * NR + 8, c32);
  vst1q_f32(tile + 4 * NR, c40); vst1q_f32(tile + 4 * NR + 4, c41); vst1q_f32(tile + 4 * NR + 8, c42);
  vst1q_f32(tile + 5 * NR, c50); vst1q_f32(tile + 5 * NR + 4, c51); vst1q_f32(tile + 5 * NR + 8, c52);
  vst1q_f32(tile + 6 * NR, c60); vst1q_f32(tile + 6 * NR + 4, c61); vst1q_f32(tile + 6 * NR + 8, c62);
  vst1q_f32(tile + 7 * NR, c70); vst1q_f32(tile + 7 * NR + 4, c71); vst1q_f32(tile + 7 * NR + 8, c72);
  for (size_t i = 0; i < mr; ++i) {
    float* row = c + i * ldc;
    const float* t = tile + i * NR;
    if (nr == NR) {  // whole row (only the row count is short)
      store_row(row, vld1q_f32(t), vld1q_f32(t + 4), vld1q_f32(t + 8), accumulate, bias, i);
      continue;
    }
    size_t j = 0;
    for (; j + 4 <= nr; j += 4) {  // whole vectors of the row
      float32x4_t v = vld1q_f32(t + j);
      if (accumulate) v = vaddq_f32(v, vld1q_f32(row + j));
      if (bias) v = vaddq_f32(v, vdupq_n_f32(bias[i]));
      vst1q_f32(row + j, v);
    }
    for (; j < nr; ++j) {  // the last 1-3 columns, one at a time (same arithmetic)
      float v = t[j];
      if (accumulate) v += row[j];
      if (bias) v += bias[i];
      row[j] = v;
    }
  }
}

// Implicit-im2col B packing for NR = 12 (the shared implementation; its
// plain copy loops are auto-vectorized to NEON here, e.g. the stride-2 gather
// to ld2).
void pack_neon(const LayerParams& p, const Im2colSource& src, int64_t k0, int64_t kc_len,
               int64_t p0, int64_t np, int64_t panel_stride, float* dst) {
  pack_im2col_impl<int(NR)>(p, src, k0, kc_len, p0, np, panel_stride, dst);
}

}  // namespace

// kc: an A micro-panel (256 x 8 x 4 B = 8 KiB) and a B micro-panel (256 x 12 x 4 B
// = 12 KiB) together stay inside a 32 KiB L1D (Cortex-A55) and well inside 64 KiB
// ones (Neoverse N1/V1, Cortex-A76+). nc: a packed B block of 256 x 144 x 4 B =
// 144 KiB fits the smallest common L2 (256 KiB per core, A55/A76 configs).
const GemmKernel kGemmNeon = {Isa::Neon, "f32-gemm-8x12-neon", MR, NR, 256, 144,
                              gemm_8x12_neon, pack_neon};

}  // namespace simdconv
