// The in-place 3x3 depthwise kernels (Dw3InPlaceArgs in direct_kernel.h) for
// AVX-512: they read the input plane itself, the padding as masked-off
// lanes, instead of a padded copy. Included by f32-direct-avx512.cpp only.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "simdconv/direct_kernel.h"

namespace simdconv {
namespace {

#if defined(__AVX512F__)
// See Dw3InPlaceArgs, stride 2. With pad_left == 1, output column ow reads input columns
// 2ow-1, 2ow, 2ow+1: the odd column before, the even one and the odd one. So
// each input row is split once, in registers, into its even (E) and odd (O)
// columns (two permutes per 32 floats) and O shifted by one lane (O'),
// then   out[ow] += w0 * O'[ow] + w1 * E[ow] + w2 * O[ow]
// for each output row that reads it: no padded copy, no reloads. Two output
// rows at a time (they share one input row). Loads are masked to the row, so
// columns past it read as the zeros of the padding.
template <int NC>
struct Dw3s2Row {  // one input row, NC chunks of 16 output columns
  __m512 e[NC], o[NC], op[NC];
};

template <int NC>
inline void dw3s2_split(const Dw3InPlaceArgs& a, int64_t ih, int64_t c0, Dw3s2Row<NC>& r) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  if (ih < 0 || ih >= a.h) {
#pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) r.e[c] = r.o[c] = r.op[c] = _mm512_setzero_ps();
    return;
  }
  const float* row = a.plane + ih * a.w;
  // O' of the group's first chunk starts with input column 32*c0 - 1 (a
  // large right padding can put whole chunks past the row: zeros)
  __m512 prev = c0 > 0 && 32 * c0 - 1 < a.w ? _mm512_set1_ps(row[32 * c0 - 1]) : _mm512_setzero_ps();
#pragma GCC unroll 4
  for (int c = 0; c < NC; ++c) {
    const int64_t x = 32 * (c0 + c), left = std::max<int64_t>(0, a.w - x);
    const __mmask16 m0 = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    const __mmask16 m1 = left >= 32 ? __mmask16(0xFFFF) : left <= 16 ? __mmask16(0) : __mmask16((1u << (left - 16)) - 1);
    const __m512 lo = _mm512_maskz_loadu_ps(m0, row + x);
    const __m512 hi = m1 ? _mm512_maskz_loadu_ps(m1, row + x + 16) : _mm512_setzero_ps();
    r.e[c] = _mm512_permutex2var_ps(lo, even, hi);
    r.o[c] = _mm512_permutex2var_ps(lo, odd, hi);
    // (maskz with all lanes: the unmasked form trips GCC 12's -Wmaybe-uninitialized)
    r.op[c] = _mm512_castsi512_ps(_mm512_maskz_alignr_epi32(
        __mmask16(0xFFFF), _mm512_castps_si512(r.o[c]), _mm512_castps_si512(prev), 15));
    prev = r.o[c];
  }
}

template <int NC>
inline void dw3s2_fma(const __m512* w3, const Dw3s2Row<NC>& r, __m512* acc) {
#pragma GCC unroll 4
  for (int c = 0; c < NC; ++c) {
    acc[c] = _mm512_fmadd_ps(w3[0], r.op[c], acc[c]);
    acc[c] = _mm512_fmadd_ps(w3[1], r.e[c], acc[c]);
    acc[c] = _mm512_fmadd_ps(w3[2], r.o[c], acc[c]);
  }
}

template <int NC>
inline void dw3_store(const Dw3InPlaceArgs& a, int64_t oh, int64_t c0, const __m512* acc) {
  float* orow = a.out + oh * a.out_w;
#pragma GCC unroll 4
  for (int c = 0; c < NC; ++c) {
    const int64_t n = a.out_w - (c0 + c) * 16;
    _mm512_mask_storeu_ps(orow + (c0 + c) * 16, n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1),
                          acc[c]);
  }
}

template <int NC>
void dw3s2_group(const Dw3InPlaceArgs& a, const __m512 (&wv)[9], __m512 b, int64_t c0) {
  const int64_t end = a.oh0 + a.rows;
  int64_t oh = a.oh0;
  Dw3s2Row<NC> r;
  for (; oh + 2 <= end; oh += 2) {
    __m512 acc0[NC], acc1[NC];
#pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) acc0[c] = acc1[c] = b;
    const int64_t ih = 2 * oh - a.pad_top;  // kh = 0 of row oh
    dw3s2_split<NC>(a, ih, c0, r);
    dw3s2_fma<NC>(wv, r, acc0);
    dw3s2_split<NC>(a, ih + 1, c0, r);
    dw3s2_fma<NC>(wv + 3, r, acc0);
    dw3s2_split<NC>(a, ih + 2, c0, r);  // kh = 2 of row oh, kh = 0 of row oh + 1
    dw3s2_fma<NC>(wv + 6, r, acc0);
    dw3s2_fma<NC>(wv, r, acc1);
    dw3_store<NC>(a, oh, c0, acc0);
    dw3s2_split<NC>(a, ih + 3, c0, r);
    dw3s2_fma<NC>(wv + 3, r, acc1);
    dw3s2_split<NC>(a, ih + 4, c0, r);
    dw3s2_fma<NC>(wv + 6, r, acc1);
    dw3_store<NC>(a, oh + 1, c0, acc1);
  }
  if (oh < end) {
    __m512 acc0[NC];
#pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) acc0[c] = b;
    const int64_t ih = 2 * oh - a.pad_top;
#pragma GCC unroll 3
    for (int kh = 0; kh < 3; ++kh) {
      dw3s2_split<NC>(a, ih + kh, c0, r);
      dw3s2_fma<NC>(wv + 3 * kh, r, acc0);
    }
    dw3_store<NC>(a, oh, c0, acc0);
  }
}

#endif

#if defined(__AVX512F__)
// See Dw3InPlaceArgs, stride 1: output column ow reads input columns ow-1,
// ow, ow+1, three loads of each input row per 16 outputs, masked to the row
// (the padding reads as zeros). Four output rows at a time walk the six
// input rows they read, each loaded once for all of them, as dw3_tile().
inline __mmask16 row_mask(int64_t x, int64_t w) {  // lanes l with 0 <= x + l < w
  const int64_t lo = std::min<int64_t>(16, std::max<int64_t>(0, -x));
  const int64_t hi = std::min<int64_t>(16, std::max<int64_t>(0, w - x));
  return hi <= lo ? __mmask16(0) : __mmask16(((1u << hi) - 1) & ~((1u << lo) - 1));
}

template <int R, int NC>
inline void dw3s1_tile(const Dw3InPlaceArgs& a, const __m512 (&wv)[9], __m512 b, int64_t oh, int64_t c0) {
  __m512 acc[R][NC];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) acc[r][c] = b;
  // chunks c0-1 .. c0+NC of the row: masked to the row (columns past it and
  // the chunk before column 0 read as zeros)
  __mmask16 mk[NC + 2];
#pragma GCC unroll 6
  for (int c = 0; c < NC + 2; ++c) mk[c] = row_mask((c0 + c - 1) * 16, a.w);
#pragma GCC unroll 6
  for (int j = 0; j < R + 2; ++j) {
    const int64_t ih = oh + j - a.pad_top;
    __m512 v[NC + 2];
    if (ih >= 0 && ih < a.h) {
      const uintptr_t row = reinterpret_cast<uintptr_t>(a.plane) + uintptr_t(ih * a.w * int64_t(sizeof(float)));
#pragma GCC unroll 6
      for (int c = 0; c < NC + 2; ++c)
        v[c] = _mm512_maskz_loadu_ps(mk[c], reinterpret_cast<const float*>(
                                                row + uintptr_t((c0 + c - 1) * 16 * int64_t(sizeof(float)))));
    } else {
#pragma GCC unroll 6
      for (int c = 0; c < NC + 2; ++c) v[c] = _mm512_setzero_ps();
    }
#pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) {
      const __m512i cur = _mm512_castps_si512(v[c + 1]);
      // columns -1 and +1 of the chunk: shifted by one lane across the neighbours
      const __m512 xm = _mm512_castsi512_ps(_mm512_maskz_alignr_epi32(__mmask16(0xFFFF), cur, _mm512_castps_si512(v[c]), 15));
      const __m512 xp = _mm512_castsi512_ps(_mm512_maskz_alignr_epi32(__mmask16(0xFFFF), _mm512_castps_si512(v[c + 2]), cur, 1));
      const __m512 x0 = v[c + 1];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const int kh = j - r;
        if (kh < 0 || kh > 2) continue;
        acc[r][c] = _mm512_fmadd_ps(wv[kh * 3 + 0], xm, acc[r][c]);
        acc[r][c] = _mm512_fmadd_ps(wv[kh * 3 + 1], x0, acc[r][c]);
        acc[r][c] = _mm512_fmadd_ps(wv[kh * 3 + 2], xp, acc[r][c]);
      }
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
    dw3_store<NC>(a, oh + r, c0, acc[r]);
}

// Not inlined into dw3s1: inlined there, GCC allocates the 4-row tile's
// registers worse and the kernel runs markedly slower (keep it a separate
// function).
template <int NC>
__attribute__((noinline)) void dw3s1_group(const Dw3InPlaceArgs& a, const __m512 (&wv)[9], __m512 b,
                                           int64_t c0) {
  const int64_t end = a.oh0 + a.rows;
  int64_t oh = a.oh0;
  for (; oh + 4 <= end; oh += 4) dw3s1_tile<4, NC>(a, wv, b, oh, c0);
  for (; oh < end; ++oh) dw3s1_tile<1, NC>(a, wv, b, oh, c0);
}

// The in-place 3x3 depthwise kernels (stride S): the weights and bias in
// registers, then groups of up to four 16-column chunks across the rows.
template <int S, int NC>
inline void dw3_group(const Dw3InPlaceArgs& a, const __m512 (&wv)[9], __m512 b, int64_t c0) {
  if constexpr (S == 1) dw3s1_group<NC>(a, wv, b, c0);
  else dw3s2_group<NC>(a, wv, b, c0);
}

template <int S>
void dw3_in_place(const Dw3InPlaceArgs& a) {
  __m512 wv[9];
#pragma GCC unroll 9
  for (int t = 0; t < 9; ++t) wv[t] = _mm512_set1_ps(a.w9[t]);
  const __m512 b = a.bias ? _mm512_set1_ps(*a.bias) : _mm512_setzero_ps();
  const int64_t chunks = (a.out_w + 15) / 16;
  int64_t c = 0;
  for (; c + 4 <= chunks; c += 4) dw3_group<S, 4>(a, wv, b, c);
  switch (chunks - c) {
    case 3: dw3_group<S, 3>(a, wv, b, c); break;
    case 2: dw3_group<S, 2>(a, wv, b, c); break;
    case 1: dw3_group<S, 1>(a, wv, b, c); break;
    default: break;
  }
}
#endif
}  // namespace
}  // namespace simdconv
