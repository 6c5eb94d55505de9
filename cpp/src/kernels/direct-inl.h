// Direct convolution kernels (see direct_kernel.h), written once over a tiny
// vector abstraction and instantiated per ISA by the f32-direct-*.cpp files.
// Internal linkage only: copies built with different ISA flags must never be
// merged by the linker.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif
// NEON is baseline on AArch64, so it is chosen by the including file
// (f32-direct-neon.cpp), not by the compiler's flags: the scalar build stays portable.
#if defined(SIMDCONV_DIRECT_NEON)
#include <arm_neon.h>
#endif

#include "simdconv/direct_kernel.h"

namespace simdconv {
namespace {

#if defined(__AVX512F__)
struct Vec {
  using T = __m512;
  static constexpr int kW = 16;
  static T zero() { return _mm512_setzero_ps(); }
  static T set1(float x) { return _mm512_set1_ps(x); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static void store_n(float* p, T v, int64_t n) {
    _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), v);
  }
};
#elif defined(__AVX2__)
struct Vec {
  using T = __m256;
  static constexpr int kW = 8;
  static T zero() { return _mm256_setzero_ps(); }
  static T set1(float x) { return _mm256_set1_ps(x); }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static void store_n(float* p, T v, int64_t n) {
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_maskstore_ps(p, m, v);
  }
};
#elif defined(SIMDCONV_DIRECT_NEON)
struct Vec {
  using T = float32x4_t;
  static constexpr int kW = 4;
  static T zero() { return vdupq_n_f32(0.0f); }
  static T set1(float x) { return vdupq_n_f32(x); }
  static T load(const float* p) { return vld1q_f32(p); }
  static T fma(T a, T b, T c) { return vfmaq_f32(c, a, b); }  // c + a*b, fused
  static void store(float* p, T v) { vst1q_f32(p, v); }
  static void store_n(float* p, T v, int64_t n) {  // n in 1..3
    if (n >= 2) {
      vst1_f32(p, vget_low_f32(v));
      if (n == 3) vst1q_lane_f32(p + 2, v, 2);
    } else {
      vst1q_lane_f32(p, v, 0);
    }
  }
};
#else
// Portable: 4 lanes as a plain array (the compiler maps it to SSE/NEON where it can).
// fma() is a separate multiply and add, as the scalar GEMM kernel does.
struct Vec {
  struct T { float v[4]; };
  static constexpr int kW = 4;
  static T zero() { return T{{0, 0, 0, 0}}; }
  static T set1(float x) { return T{{x, x, x, x}}; }
  static T load(const float* p) { T r; std::memcpy(r.v, p, sizeof r.v); return r; }
  static T fma(T a, T b, T c) {
    for (int i = 0; i < 4; ++i) c.v[i] += a.v[i] * b.v[i];
    return c;
  }
  static void store(float* p, T v) { std::memcpy(p, v.v, sizeof v.v); }
  static void store_n(float* p, T v, int64_t n) { for (int64_t i = 0; i < n; ++i) p[i] = v.v[i]; }
};
#endif

constexpr int kW = Vec::kW;

// Register budget: accumulators + inputs + 1 weight; output channels per tile.
#if defined(__AVX512F__) || defined(SIMDCONV_DIRECT_NEON)  // 32 vector registers
constexpr int kMaxAcc = 16;   // depthwise tiles
constexpr int kDenseOB = 8;   // dense tiles: 8 output channels x up to 3 vectors
constexpr int kDenseAcc = 24;
#else
constexpr int kMaxAcc = 8;
constexpr int kDenseOB = 4;
constexpr int kDenseAcc = 8;
#endif

// OB output channels x R output rows x NCH vectors of a row (one chunk of
// columns starting at ow): OB*R*NCH accumulators; every loaded input vector
// feeds OB FMAs. FLAT (a.flat_n > 0, R == 1, oh == 0): the chunk is a run of
// the band's flat output index q = oh * row_step + ow; positions whose column
// is past out_w are computed and dropped.
template <int OB, int R, int NCH, bool FLAT>
inline void direct_tile(const DirectArgs& a, int64_t o0, int64_t oh, int64_t ow) {
  using T = Vec::T;
  const int64_t taps = a.taps;
  const float* w = a.w + o0 * taps;
  const float* src = a.in + oh * a.row_step + ow;
  T acc[OB][R][NCH];
#pragma GCC unroll 8
  for (int o = 0; o < OB; ++o) {
    const T b = a.bias ? Vec::set1(a.bias[o0 + o]) : Vec::zero();
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int c = 0; c < NCH; ++c) acc[o][r][c] = b;
  }
  for (int64_t t = 0; t < taps; ++t) {
    const float* s = src + a.tap_off[t];
    T x[R][NCH];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int c = 0; c < NCH; ++c) x[r][c] = Vec::load(s + r * a.row_step + c * kW);
#pragma GCC unroll 8
    for (int o = 0; o < OB; ++o) {
      const T wv = Vec::set1(w[o * taps + t]);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int c = 0; c < NCH; ++c) acc[o][r][c] = Vec::fma(wv, x[r][c], acc[o][r][c]);
    }
  }
  if (FLAT) {
    // Through a small buffer, then the valid run of each output row it covers.
    alignas(64) float tmp[OB][NCH * kW];
#pragma GCC unroll 8
    for (int o = 0; o < OB; ++o)
#pragma GCC unroll 4
      for (int c = 0; c < NCH; ++c) Vec::store(&tmp[o][c * kW], acc[o][0][c]);
    const int64_t rs = a.row_step, end = std::min<int64_t>(ow + NCH * kW, a.flat_n);
    for (int64_t q = ow; q < end;) {
      const int64_t r = q / rs, col = q - r * rs;
      if (col >= a.out_w) {
        q = (r + 1) * rs;
        continue;
      }
      const int64_t len = std::min(a.out_w - col, end - q);
      float* op = a.out + o0 * a.out_stride + r * a.out_row_stride + col;
      for (int o = 0; o < OB; ++o)
        std::memcpy(op + o * a.out_stride, &tmp[o][q - ow], size_t(len) * sizeof(float));
      q += len;
    }
    return;
  }
  const int64_t left = a.out_w - ow;
  float* orow = a.out + o0 * a.out_stride + oh * a.out_row_stride + ow;
#pragma GCC unroll 8
  for (int o = 0; o < OB; ++o)
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      float* op = orow + o * a.out_stride + r * a.out_row_stride;
#pragma GCC unroll 4
      for (int c = 0; c < NCH; ++c) {
        const int64_t n = left - c * kW;
        if (n >= kW) Vec::store(op + c * kW, acc[o][r][c]);
        else if (n > 0) Vec::store_n(op + c * kW, acc[o][r][c], n);
      }
    }
}

// One row group (R rows at oh) of OB output channels across `width` columns:
// chunks of NCH vectors, the last chunk only as many vectors as are left.
template <int OB, int R, int NCH, bool FLAT>
void direct_line(const DirectArgs& a, int64_t o0, int64_t oh, int64_t width) {
  int64_t ow = 0;
  for (; ow + NCH * kW <= width; ow += NCH * kW) direct_tile<OB, R, NCH, FLAT>(a, o0, oh, ow);
  if (ow >= width) return;
  const int64_t nv = (width - ow + kW - 1) / kW;  // 1 .. NCH
  constexpr int n3 = NCH < 3 ? NCH : 3, n2 = NCH < 2 ? NCH : 2;
  if (nv >= NCH) direct_tile<OB, R, NCH, FLAT>(a, o0, oh, ow);
  else if (nv == 3) direct_tile<OB, R, n3, FLAT>(a, o0, oh, ow);
  else if (nv == 2) direct_tile<OB, R, n2, FLAT>(a, o0, oh, ow);
  else direct_tile<OB, R, 1, FLAT>(a, o0, oh, ow);
}

// R rows at a time while they last, then single rows (R = 2 when OB*NCH
// leaves room: enough independent FMA chains to cover the FMA latency).
template <int OB, int NCH>
void direct_block(const DirectArgs& a, int64_t o0) {
  if (a.flat_n > 0) {
    direct_line<OB, 1, NCH, true>(a, o0, 0, a.flat_n);
    return;
  }
  constexpr int R = OB * NCH * 2 <= kDenseAcc ? 2 : 1;
  int64_t oh = 0;
  for (; oh + R <= a.out_h; oh += R) direct_line<OB, R, NCH, false>(a, o0, oh, a.out_w);
  for (; oh < a.out_h; ++oh) direct_line<OB, 1, NCH, false>(a, o0, oh, a.out_w);
}

template <int OB>
void direct_rows(const DirectArgs& a, int64_t o0, int nch) {
  constexpr int n4 = OB * 4 <= kDenseAcc ? 4 : kDenseAcc / OB;
  constexpr int n3 = n4 < 3 ? n4 : 3;
  constexpr int n2 = n4 < 2 ? n4 : 2;
  switch (std::min(nch, n4)) {
    case 4: direct_block<OB, n4>(a, o0); break;
    case 3: direct_block<OB, n3>(a, o0); break;
    case 2: direct_block<OB, n2>(a, o0); break;
    default: direct_block<OB, 1>(a, o0); break;
  }
}

// One input channel, stride_h == dilation_h: R output rows at once walk the
// R + kernel_h - 1 input rows they read, loading each input vector once for
// every output row that uses it. Per element the taps are still summed in
// (kh, kw) order after the bias, exactly as direct_tile() does.
template <int R, int NCH>
void dw_tile(const DirectArgs& a, int64_t o, int64_t oh) {
  using T = Vec::T;
  const int64_t KH = a.kernel_h, KW = a.kernel_w, out_w = a.out_w;
  const float* w = a.w + o * a.taps;
  const float* base = a.in + oh * a.row_step;
  float* orow = a.out + o * a.out_stride + oh * a.out_row_stride;
  for (int64_t ow = 0; ow < out_w; ow += NCH * kW) {
    T acc[R][NCH];
    const T b = a.bias ? Vec::set1(a.bias[o]) : Vec::zero();
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int c = 0; c < NCH; ++c) acc[r][c] = b;
    for (int64_t j = 0; j < R + KH - 1; ++j) {
      const float* row = base + j * a.row_step + ow;
      for (int64_t kw = 0; kw < KW; ++kw) {
        const float* s = row + a.tap_off[kw];
        T x[NCH];
#pragma GCC unroll 4
        for (int c = 0; c < NCH; ++c) x[c] = Vec::load(s + c * kW);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const int64_t kh = j - r;
          if (kh < 0 || kh >= KH) continue;
          const T wv = Vec::set1(w[kh * KW + kw]);
#pragma GCC unroll 4
          for (int c = 0; c < NCH; ++c) acc[r][c] = Vec::fma(wv, x[c], acc[r][c]);
        }
      }
    }
    const int64_t left = out_w - ow;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      float* op = orow + r * a.out_row_stride + ow;
#pragma GCC unroll 4
      for (int c = 0; c < NCH; ++c) {
        const int64_t n = left - c * kW;
        if (n >= kW) Vec::store(op + c * kW, acc[r][c]);
        else if (n > 0) Vec::store_n(op + c * kW, acc[r][c], n);
      }
    }
  }
}

template <int NCH>
void dw_rows(const DirectArgs& a, int64_t o) {
  constexpr int R = kMaxAcc / NCH >= 4 ? 4 : kMaxAcc / NCH;
  int64_t oh = 0;
  for (; oh + R <= a.out_h; oh += R) dw_tile<R, NCH>(a, o, oh);
  for (; oh < a.out_h; ++oh) dw_tile<1, NCH>(a, o, oh);
}

void direct_run(const DirectArgs& a) {
  if (a.kernel_h > 1 && a.kh_step == a.row_step && a.taps == a.kernel_h * a.kernel_w) {
    const int64_t nv = (a.out_w + kW - 1) / kW;
    for (int64_t o = 0; o < a.n_out; ++o) {
      if (nv >= 4 && kMaxAcc >= 16) dw_rows<4>(a, o);
      else if (nv >= 3 && kMaxAcc >= 12) dw_rows<3>(a, o);
      else if (nv >= 2) dw_rows<2>(a, o);
      else dw_rows<1>(a, o);
    }
    return;
  }
  // Vectors per row step: as many as the row needs, up to 4.
  const int64_t width = a.flat_n > 0 ? a.flat_n : a.out_w;
  const int nch = int(std::min<int64_t>(4, (width + kW - 1) / kW));
  int64_t o = 0;
  for (; o + kDenseOB <= a.n_out; o += kDenseOB) direct_rows<kDenseOB>(a, o, nch);
  switch (a.n_out - o) {
    case 7: direct_rows<7>(a, o, nch); break;
    case 6: direct_rows<6>(a, o, nch); break;
    case 5: direct_rows<5>(a, o, nch); break;
    case 4: direct_rows<4>(a, o, nch); break;
    case 3: direct_rows<3>(a, o, nch); break;
    case 2: direct_rows<2>(a, o, nch); break;
    case 1: direct_rows<1>(a, o, nch); break;
    default: break;
  }
}

inline void copy_floats(float* dst, const float* src, int64_t n) {
  int64_t i = 0;
  for (; i + kW <= n; i += kW) Vec::store(dst + i, Vec::load(src + i));
  for (; i < n; ++i) dst[i] = src[i];
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
  for (int64_t r = 0; r < a.rows; ++r) {
    float* dst = a.dst + r * rs;
    const int64_t ih = map_index(a.y0 + r - a.pad_top, a.h, a.mode);
    if (ih < 0) {
      std::fill(dst, dst + rs, 0.0f);
      continue;
    }
    const float* src = a.plane + ih * W;
    // padded column x goes to phase x % S, index x / S
    for (int64_t x = 0; x < pl; ++x) {
      const int64_t i = map_index(x - pl, W, a.mode);
      dst[(x % S) * wq + x / S] = i < 0 ? 0.0f : src[i];
    }
    for (int64_t x = pl + W; x < n; ++x) {
      const int64_t i = map_index(x - pl, W, a.mode);
      dst[(x % S) * wq + x / S] = i < 0 ? 0.0f : src[i];
    }
    if (S == 1) {
      copy_floats(dst + pl, src, W);
    } else if (S == 2) {
      // src[i] is padded column pl + i: even i lands in phase pl % 2
      const int64_t p0 = pl % 2;
      deinterleave2(src, W, dst + p0 * wq + pl / 2, dst + (1 - p0) * wq + (pl + 1) / 2);
    } else {
      for (int64_t i = 0; i < W; ++i) {
        const int64_t x = pl + i;
        dst[(x % S) * wq + x / S] = src[i];
      }
    }
  }
}

}  // namespace
}  // namespace simdconv
