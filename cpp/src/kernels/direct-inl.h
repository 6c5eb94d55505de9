// Direct convolution kernels (see direct_kernel.h), written once over the
// vector abstraction of direct-vec-inl.h and instantiated per ISA by the
// f32-direct-*.cpp files. Internal linkage only: copies built with different
// ISA flags must never be merged by the linker.
#pragma once
#include <algorithm>
#include <cstdint>

#include "direct-vec-inl.h"
#include "simdconv/direct_kernel.h"

namespace simdconv {
namespace {

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

}  // namespace
}  // namespace simdconv
