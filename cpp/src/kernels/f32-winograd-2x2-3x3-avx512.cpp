// Winograd F(2x2, 3x3) input and output transforms for AVX-512 (see
// winograd.h): 16 tiles of one tile row per vector. The column phases of the
// padded rows make the four input columns of 16 neighbouring tiles four
// contiguous loads; the two output columns of 16 tiles are interleaved back
// into one 32-float run of the output row (or every d-th column of it).
#include <immintrin.h>

#include <algorithm>

#include "simdconv/winograd.h"

namespace simdconv {
namespace {

inline __mmask16 lanes(int64_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }

void winograd_input_avx512(const WinogradInputArgs& a) {
  for (int64_t i = 0; i < a.rows; ++i) {
    const float* r0 = a.band + 2 * i * a.row_stride;
    float* v = a.v + i * a.tiles_w;
    for (int64_t tw = 0; tw < a.tiles_w; tw += 16) {
      const __mmask16 m = lanes(a.tiles_w - tw);
      __m512 t[4][4];
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) {
        const float* ev = r0 + r * a.row_stride + tw;  // tile columns 0 and 2
        const float* od = ev + a.odd_offset;           // tile columns 1 and 3
        const __m512 d0 = _mm512_maskz_loadu_ps(m, ev), d2 = _mm512_maskz_loadu_ps(m, ev + 1);
        const __m512 d1 = _mm512_maskz_loadu_ps(m, od), d3 = _mm512_maskz_loadu_ps(m, od + 1);
        t[r][0] = _mm512_sub_ps(d0, d2);
        t[r][1] = _mm512_add_ps(d1, d2);
        t[r][2] = _mm512_sub_ps(d2, d1);
        t[r][3] = _mm512_sub_ps(d1, d3);
      }
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) {
        _mm512_mask_storeu_ps(v + (0 * 4 + c) * a.v_plane + tw, m, _mm512_sub_ps(t[0][c], t[2][c]));
        _mm512_mask_storeu_ps(v + (1 * 4 + c) * a.v_plane + tw, m, _mm512_add_ps(t[1][c], t[2][c]));
        _mm512_mask_storeu_ps(v + (2 * 4 + c) * a.v_plane + tw, m, _mm512_sub_ps(t[2][c], t[1][c]));
        _mm512_mask_storeu_ps(v + (3 * 4 + c) * a.v_plane + tw, m, _mm512_sub_ps(t[1][c], t[3][c]));
      }
    }
  }
}

void winograd_output_avx512(const WinogradOutputArgs& a) {
  const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi_idx = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  for (int64_t i = 0; i < a.rows; ++i) {
    const float* m = a.m + i * a.tiles_w;
    for (int64_t tw = 0; tw < a.tiles_w; tw += 16) {
      const __mmask16 mk = lanes(a.tiles_w - tw);
      __m512 s[2][4];
#pragma GCC unroll 4
      for (int nu = 0; nu < 4; ++nu) {
        const __m512 m0 = _mm512_maskz_loadu_ps(mk, m + (0 * 4 + nu) * a.m_plane + tw);
        const __m512 m1 = _mm512_maskz_loadu_ps(mk, m + (1 * 4 + nu) * a.m_plane + tw);
        const __m512 m2 = _mm512_maskz_loadu_ps(mk, m + (2 * 4 + nu) * a.m_plane + tw);
        const __m512 m3 = _mm512_maskz_loadu_ps(mk, m + (3 * 4 + nu) * a.m_plane + tw);
        s[0][nu] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
        s[1][nu] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
      }
      const int64_t cols = std::min<int64_t>(32, a.out_w - 2 * tw);  // >= 1
      const __mmask16 c_lo = lanes(cols), c_hi = lanes(std::max<int64_t>(0, cols - 16));
#pragma GCC unroll 2
      for (int r = 0; r < 2; ++r) {
        if (2 * i + r >= a.out_h) break;
        __m512 y0 = _mm512_add_ps(_mm512_add_ps(s[r][0], s[r][1]), s[r][2]);
        __m512 y1 = _mm512_sub_ps(_mm512_sub_ps(s[r][1], s[r][2]), s[r][3]);
        if (a.bias != nullptr) {
          const __m512 b = _mm512_set1_ps(*a.bias);
          y0 = _mm512_add_ps(y0, b);
          y1 = _mm512_add_ps(y1, b);
        }
        if (a.col_step == 1) {
          float* o = a.out + (2 * i + r) * a.out_row_stride + 2 * tw;
          _mm512_mask_storeu_ps(o, c_lo, _mm512_permutex2var_ps(y0, lo_idx, y1));
          if (c_hi) _mm512_mask_storeu_ps(o + 16, c_hi, _mm512_permutex2var_ps(y0, hi_idx, y1));
        } else {
          // a phase of a dilated layer's output: every col_step-th column
          alignas(64) float t[32];
          _mm512_store_ps(t, _mm512_permutex2var_ps(y0, lo_idx, y1));
          _mm512_store_ps(t + 16, _mm512_permutex2var_ps(y0, hi_idx, y1));
          float* o = a.out + (2 * i + r) * a.out_row_stride + 2 * tw * a.col_step;
          for (int64_t q = 0; q < cols; ++q) o[q * a.col_step] = t[q];
        }
      }
    }
  }
}

}  // namespace

const WinogradKernel kWinogradAvx512 = {Isa::Avx512, "f32-winograd-2x2-3x3-avx512",
                                        winograd_input_avx512, winograd_output_avx512};

}  // namespace simdconv
