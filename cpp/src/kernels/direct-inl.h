// Direct convolution kernels (see direct_kernel.h), written once over a tiny
// vector abstraction and instantiated per ISA by the f32-direct-*.cpp files.
// Internal linkage only: copies built with different ISA flags must never be
// merged by the linker.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
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
  static T load_n(const float* p, int64_t n) {
    return _mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), p);
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
  static T load_n(const float* p, int64_t n) {
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_maskload_ps(p, m);
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
  static T load_n(const float* p, int64_t n) {  // n in 1..3
    float t[4] = {0, 0, 0, 0};
    for (int64_t i = 0; i < n; ++i) t[i] = p[i];
    return vld1q_f32(t);
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
  static T load_n(const float* p, int64_t n) {
    T r = zero();
    for (int64_t i = 0; i < n; ++i) r.v[i] = p[i];
    return r;
  }
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

// 3x3 depthwise, stride S (1 or 2) along rows, dilation 1 along rows
// (row_step == S * kh_step): R output rows walk the (R-1)*S + 3 input rows
// they read, loading each input vector once for every output row that uses
// it. The 9 weights stay in registers when the ISA has 32 of them. Fully
// unrolled: no per-tap branches. Per element the taps are summed after the
// bias in (kh, kw) order, exactly as direct_tile() and dw_tile() do.
constexpr bool kDw3WeightsInRegs = kMaxAcc >= 16;

template <int S, int R, int NCH>
inline void dw3_tile(const DirectArgs& a, const float* w, const Vec::T* wv, Vec::T b,
                     const float* base, float* orow, int64_t left) {
  using T = Vec::T;
  const int64_t ks = a.kh_step;
  const int64_t t0 = a.tap_off[0], t1 = a.tap_off[1], t2 = a.tap_off[2];
  T acc[R][NCH];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < NCH; ++c) acc[r][c] = b;
#pragma GCC unroll 16
  for (int j = 0; j < (R - 1) * S + 3; ++j) {
    const float* row = base + j * ks;
#pragma GCC unroll 3
    for (int kw = 0; kw < 3; ++kw) {
      const float* s = row + (kw == 0 ? t0 : kw == 1 ? t1 : t2);
      T x[NCH];
#pragma GCC unroll 4
      for (int c = 0; c < NCH; ++c) x[c] = Vec::load(s + c * kW);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const int kh = j - r * S;
        if (kh < 0 || kh >= 3) continue;  // resolved at compile time
        const T wt = kDw3WeightsInRegs ? wv[kh * 3 + kw] : Vec::set1(w[kh * 3 + kw]);
#pragma GCC unroll 4
        for (int c = 0; c < NCH; ++c) acc[r][c] = Vec::fma(wt, x[c], acc[r][c]);
      }
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    float* op = orow + r * a.out_row_stride;
#pragma GCC unroll 4
    for (int c = 0; c < NCH; ++c) {
      const int64_t n = left - c * kW;
      if (n >= kW) Vec::store(op + c * kW, acc[r][c]);
      else if (n > 0) Vec::store_n(op + c * kW, acc[r][c], n);
    }
  }
}

// All rows of output channel o: R rows at a time, then single rows; each row
// group in chunks of NCH vectors, the last chunk as many vectors as are left.
template <int S, int R, int NCH>
void dw3_rows(const DirectArgs& a, int64_t o) {
  using T = Vec::T;
  const float* w = a.w + o * 9;
  T wv[9];
#pragma GCC unroll 9
  for (int t = 0; t < 9; ++t) wv[t] = Vec::set1(w[t]);
  const T b = a.bias ? Vec::set1(a.bias[o]) : Vec::zero();
  const int64_t out_w = a.out_w;
  float* const out = a.out + o * a.out_stride;
  const auto line = [&](auto rows_tag, int64_t oh) {
    constexpr int RR = decltype(rows_tag)::value;
    const float* base = a.in + oh * a.row_step;
    float* orow = out + oh * a.out_row_stride;
    int64_t ow = 0;
    for (; ow + NCH * kW <= out_w; ow += NCH * kW)
      dw3_tile<S, RR, NCH>(a, w, wv, b, base + ow, orow + ow, out_w - ow);
    if (ow >= out_w) return;
    const int64_t nv = (out_w - ow + kW - 1) / kW;
    constexpr int n3 = NCH < 3 ? NCH : 3, n2 = NCH < 2 ? NCH : 2;
    if (nv >= NCH) dw3_tile<S, RR, NCH>(a, w, wv, b, base + ow, orow + ow, out_w - ow);
    else if (nv == 3) dw3_tile<S, RR, n3>(a, w, wv, b, base + ow, orow + ow, out_w - ow);
    else if (nv == 2) dw3_tile<S, RR, n2>(a, w, wv, b, base + ow, orow + ow, out_w - ow);
    else dw3_tile<S, RR, 1>(a, w, wv, b, base + ow, orow + ow, out_w - ow);
  };
  int64_t oh = 0;
  for (; oh + R <= a.out_h; oh += R) line(std::integral_constant<int, R>(), oh);
  for (; oh < a.out_h; ++oh) line(std::integral_constant<int, 1>(), oh);
}

template <int S>
void dw3_run(const DirectArgs& a) {
  const int64_t nv = (a.out_w + kW - 1) / kW;
  // accumulators R * NCH within kMaxAcc
  for (int64_t o = 0; o < a.n_out; ++o) {
    if (nv >= 4 && kMaxAcc >= 16) dw3_rows<S, 4, 4>(a, o);
    else if (nv >= 3 && kMaxAcc >= 12) dw3_rows<S, 4, 3>(a, o);
    else if (nv >= 2) dw3_rows<S, kMaxAcc / 2 >= 4 ? 4 : kMaxAcc / 2, 2>(a, o);
    else dw3_rows<S, 4, 1>(a, o);
  }
}

void direct_run(const DirectArgs& a) {
  if (a.kernel_h == 3 && a.kernel_w == 3 && a.taps == 9 && a.kh_step > 0) {
    if (a.row_step == a.kh_step) return dw3_run<1>(a);
    if (a.row_step == 2 * a.kh_step) return dw3_run<2>(a);
  }
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

// Row copies and fills: full vectors, the tail as one more full vector that
// overlaps the previous one (masked only when the whole run is shorter than a
// vector), and plain stores for the 1-3 floats of a typical padding border.
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

// (not inlined into dw3s1: inlined, GCC 12 allocated registers worse and
// the layer ran at 62 instead of 90 GFLOP/s)
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
