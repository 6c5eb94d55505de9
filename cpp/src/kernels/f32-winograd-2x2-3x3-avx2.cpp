// Winograd F(2x2, 3x3) input and output transforms for AVX2 (see winograd.h
// and the AVX-512 file, which this follows with 8 tiles per vector).
#include <immintrin.h>

#include <algorithm>

#include "simdconv/winograd.h"

namespace simdconv {
namespace {

inline __m256i lanes(int64_t n) {  // first n (0..8) lanes set
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(std::min<int64_t>(n, 8))),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

void winograd_input_avx2(const WinogradInputArgs& a) {
  for (int64_t i = 0; i < a.rows; ++i) {
    const float* r0 = a.band + 2 * i * a.row_stride;
    float* v = a.v + i * a.tiles_w;
    for (int64_t tw = 0; tw < a.tiles_w; tw += 8) {
      const int64_t n = a.tiles_w - tw;
      const __m256i m = lanes(n);
      __m256 t[4][4];
      for (int r = 0; r < 4; ++r) {
        const float* ev = r0 + r * a.row_stride + tw;  // tile columns 0 and 2
        const float* od = ev + a.odd_offset;           // tile columns 1 and 3
        __m256 d0, d1, d2, d3;
        if (n >= 8) {
          d0 = _mm256_loadu_ps(ev), d2 = _mm256_loadu_ps(ev + 1);
          d1 = _mm256_loadu_ps(od), d3 = _mm256_loadu_ps(od + 1);
        } else {
          d0 = _mm256_maskload_ps(ev, m), d2 = _mm256_maskload_ps(ev + 1, m);
          d1 = _mm256_maskload_ps(od, m), d3 = _mm256_maskload_ps(od + 1, m);
        }
        t[r][0] = _mm256_sub_ps(d0, d2);
        t[r][1] = _mm256_add_ps(d1, d2);
        t[r][2] = _mm256_sub_ps(d2, d1);
        t[r][3] = _mm256_sub_ps(d1, d3);
      }
      for (int c = 0; c < 4; ++c) {
        const __m256 x[4] = {_mm256_sub_ps(t[0][c], t[2][c]), _mm256_add_ps(t[1][c], t[2][c]),
                             _mm256_sub_ps(t[2][c], t[1][c]), _mm256_sub_ps(t[1][c], t[3][c])};
        for (int xi = 0; xi < 4; ++xi) {
          float* p = v + (xi * 4 + c) * a.v_plane + tw;
          if (n >= 8) _mm256_storeu_ps(p, x[xi]);
          else _mm256_maskstore_ps(p, m, x[xi]);
        }
      }
    }
  }
}

void winograd_output_avx2(const WinogradOutputArgs& a) {
  for (int64_t i = 0; i < a.rows; ++i) {
    const float* m = a.m + i * a.tiles_w;
    for (int64_t tw = 0; tw < a.tiles_w; tw += 8) {
      const int64_t n = a.tiles_w - tw;
      const __m256i mk = lanes(n);
      __m256 s[2][4];
      for (int nu = 0; nu < 4; ++nu) {
        __m256 mm[4];
        for (int xi = 0; xi < 4; ++xi) {
          const float* p = m + (xi * 4 + nu) * a.m_plane + tw;
          mm[xi] = n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mk);
        }
        s[0][nu] = _mm256_add_ps(_mm256_add_ps(mm[0], mm[1]), mm[2]);
        s[1][nu] = _mm256_sub_ps(_mm256_sub_ps(mm[1], mm[2]), mm[3]);
      }
      const int64_t cols = std::min<int64_t>(16, a.out_w - 2 * tw);  // >= 1
      for (int r = 0; r < 2; ++r) {
        if (2 * i + r >= a.out_h) break;
        __m256 y0 = _mm256_add_ps(_mm256_add_ps(s[r][0], s[r][1]), s[r][2]);
        __m256 y1 = _mm256_sub_ps(_mm256_sub_ps(s[r][1], s[r][2]), s[r][3]);
        if (a.bias != nullptr) {
          const __m256 b = _mm256_set1_ps(*a.bias);
          y0 = _mm256_add_ps(y0, b);
          y1 = _mm256_add_ps(y1, b);
        }
        // interleave the two output columns of 8 tiles: 16 consecutive outputs
        const __m256 lo = _mm256_unpacklo_ps(y0, y1), hi = _mm256_unpackhi_ps(y0, y1);
        const __m256 o0 = _mm256_permute2f128_ps(lo, hi, 0x20), o1 = _mm256_permute2f128_ps(lo, hi, 0x31);
        float* o = a.out + (2 * i + r) * a.out_row_stride + 2 * tw * a.col_step;
        if (a.col_step == 1 && cols == 16) {
          _mm256_storeu_ps(o, o0);
          _mm256_storeu_ps(o + 8, o1);
        } else {
          alignas(32) float t[16];
          _mm256_store_ps(t, o0);
          _mm256_store_ps(t + 8, o1);
          for (int64_t q = 0; q < cols; ++q) o[q * a.col_step] = t[q];
        }
      }
    }
  }
}

}  // namespace

const WinogradKernel kWinogradAvx2 = {Isa::Avx2, "f32-winograd-2x2-3x3-avx2", winograd_input_avx2,
                                      winograd_output_avx2};

}  // namespace simdconv
