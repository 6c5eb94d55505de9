// pad_plane (PadPlaneArgs in direct_kernel.h): one input channel's rows
// copied into a band with the padding written out and the columns split by
// the stride into phases, for the direct and Winograd paths; over the
// vector abstraction of direct-vec-inl.h.
#pragma once
#include <algorithm>
#include <cstdint>

#include "direct-vec-inl.h"
#include "simdconv/direct_kernel.h"

namespace simdconv {
namespace {

// Row copies and fills: full vectors, the tail as one more full vector that
// overlaps the previous one (masked only when the whole run is shorter than a
// vector), and plain stores for the 1-3 floats of a typical padding border.
inline void copy_floats(float* dst, const float* src, int64_t n) {
  if (n >= kW) {
    int64_t i = 0;
    for (; i + kW <= n; i += kW) Vec::store(dst + i, Vec::load(src + i));
    if (i < n) Vec::store(dst + n - kW, Vec::load(src + n - kW));
  } else if (n > 0) {
    Vec::store_n(dst, Vec::load_n(src, n), n);
  }
}

inline void zero_floats(float* dst, int64_t n) {
  if (n < 4) {
    for (int64_t i = 0; i < n; ++i) dst[i] = 0.0f;
    return;
  }
  int64_t i = 0;
  for (; i + kW <= n; i += kW) Vec::store(dst + i, Vec::zero());
  if (i < n) {
    if (n >= kW) Vec::store(dst + n - kW, Vec::zero());
    else Vec::store_n(dst + i, Vec::zero(), n - i);
  }
}

// Even elements of src[0, n) to ev[0, (n+1)/2), odd ones to od[0, n/2).
inline void deinterleave2(const float* src, int64_t n, float* ev, float* od) {
  int64_t i = 0;
#if defined(__AVX512F__)
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  for (; i + 32 <= n; i += 32) {
    const __m512 lo = _mm512_loadu_ps(src + i), hi = _mm512_loadu_ps(src + i + 16);
    _mm512_storeu_ps(ev + i / 2, _mm512_permutex2var_ps(lo, even, hi));
    _mm512_storeu_ps(od + i / 2, _mm512_permutex2var_ps(lo, odd, hi));
  }
  if (i < n) {
    const int64_t r = n - i;  // 1..31
    const __mmask16 mlo = r >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << r) - 1);
    const __mmask16 mhi = r > 16 ? __mmask16((1u << (r - 16)) - 1) : __mmask16(0);
    const __m512 lo = _mm512_maskz_loadu_ps(mlo, src + i), hi = _mm512_maskz_loadu_ps(mhi, src + i + 16);
    const int64_t ne = (r + 1) / 2, no = r / 2;
    _mm512_mask_storeu_ps(ev + i / 2, __mmask16((1u << ne) - 1), _mm512_permutex2var_ps(lo, even, hi));
    if (no > 0) _mm512_mask_storeu_ps(od + i / 2, __mmask16((1u << no) - 1), _mm512_permutex2var_ps(lo, odd, hi));
    return;
  }
#elif defined(__AVX2__)
  for (; i + 16 <= n; i += 16) {
    const __m256 lo = _mm256_loadu_ps(src + i), hi = _mm256_loadu_ps(src + i + 8);
    // per 128-bit lane: evens [lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6], then fix the lane order
    const __m256 e = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 o = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
    _mm256_storeu_ps(ev + i / 2, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8)));
    _mm256_storeu_ps(od + i / 2, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), 0xD8)));
  }
#elif defined(SIMDCONV_DIRECT_NEON)
  for (; i + 8 <= n; i += 8) {  // ld2 deinterleaves
    const float32x4x2_t v = vld2q_f32(src + i);
    vst1q_f32(ev + i / 2, v.val[0]);
    vst1q_f32(od + i / 2, v.val[1]);
  }
#endif
  for (; i + 1 < n; i += 2) {
    ev[i / 2] = src[i];
    od[i / 2] = src[i + 1];
  }
  if (i < n) ev[i / 2] = src[i];
}

void pad_plane(const PadPlaneArgs& a) {
  const int64_t W = a.w, pl = a.pad_left, n = pl + W + a.pad_right;
  const int64_t S = a.stride, wq = a.wq, rs = S * wq;
  // The border columns, mapped once per call (not per row: the divisions by
  // the stride and the mode's index mapping cost more than the row copy):
  // padded column x goes to phase x % S, index x / S, and reads input column
  // src_col (or is zero when src_col < 0).
  struct Border { int64_t dst, src_col; };
  thread_local std::vector<Border> border;
  border.clear();
  for (int64_t x = 0; x < n; ++x) {
    if (x == pl) x = pl + W;
    if (x >= n) break;
    border.push_back({(x % S) * wq + x / S, map_index(x - pl, W, a.mode)});
  }
  const Border* bd = border.data();
  const int64_t nb = int64_t(border.size());
  const bool zeros = a.mode == PadMode::Zeros;
  for (int64_t r = 0; r < a.rows; ++r) {
    float* dst = a.dst + r * rs;
    const int64_t ih = map_index(a.y0 + r * a.y_step - a.pad_top, a.h, a.mode);
    if (ih < 0) {
      zero_floats(dst, rs);
      continue;
    }
    const float* src = a.plane + ih * W;
    if (zeros && S == 1) {
      // the common case: zeros | the row | zeros
      zero_floats(dst, pl);
      copy_floats(dst + pl, src, W);
      zero_floats(dst + pl + W, rs - pl - W);
      continue;
    }
    for (int64_t b = 0; b < nb; ++b) dst[bd[b].dst] = bd[b].src_col < 0 ? 0.0f : src[bd[b].src_col];
    if (S == 1) {
      copy_floats(dst + pl, src, W);
    } else if (S == 2) {
      // src[i] is padded column pl + i: even i lands in phase pl % 2
      const int64_t p0 = pl % 2;
      deinterleave2(src, W, dst + p0 * wq + pl / 2, dst + (1 - p0) * wq + (pl + 1) / 2);
    } else {
      int64_t ph = pl % S, idx = pl / S;  // phase and index of column pl + i, stepped
      for (int64_t i = 0; i < W; ++i) {
        dst[ph * wq + idx] = src[i];
        if (++ph == S) ph = 0, ++idx;
      }
    }
  }
}

}  // namespace
}  // namespace simdconv
