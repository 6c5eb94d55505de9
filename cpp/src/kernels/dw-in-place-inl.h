// The in-place depthwise kernels (DwInPlaceArgs in direct_kernel.h): one
// family for k x k kernels (k = 3, 5) at stride 1 or 2, written once over the
// vector abstraction of direct-vec-inl.h and instantiated per ISA by the
// f32-direct-*.cpp files. Internal linkage only: copies built with different
// ISA flags must never be merged by the linker.
//
// A tile is R output rows x NC vectors of output columns. It walks the
// (R - 1) * S + k input rows those rows read, loading each input vector once
// for all the output rows that use it (k of them in the steady state, from
// registers). Stride 1: tap kw of output column ow reads column ow - pad_left
// + kw, a plain (unaligned) load per tap. Stride 2: output columns ow..ow+n
// read every second column from 2*ow - pad_left + kw, so two vectors loaded
// at that column give taps kw (even lanes) and kw + 1 (odd lanes) by one
// deinterleave each. The border is handled in registers: tiles that reach
// past the plane (or start before it) load with masks to the row's columns,
// so the padding reads as zeros and nothing outside the plane is read; rows
// above or below the plane are zero vectors. The zeros are still multiplied,
// and per element the taps are added after the bias in (kh, kw) order, as
// fn() does on the padded copy: bitwise the same result, whatever the tile.
#pragma once
#include <algorithm>
#include <cstdint>

#include "direct-vec-inl.h"
#include "simdconv/direct_kernel.h"

#if defined(_MSC_VER) && !defined(__clang__)
#define SIMDCONV_DW_NOINLINE __declspec(noinline)
#else
#define SIMDCONV_DW_NOINLINE __attribute__((noinline))
#endif

namespace simdconv {
namespace {

// Rows x column vectors per tile: R * NC accumulators plus the NC (stride 1)
// or 2 * NC (stride 2) input vectors of one tap within the register file.
// Four rows: each input row serves up to k of them.
template <int S>
struct DwBlock {
  static constexpr int R = 4;
  static constexpr int NC = kMaxAcc >= 16 && S == 1 ? 4 : 2;
};

// row + x as an address: x may lie outside the row when every lane it would
// read there is masked off (the address is formed, never dereferenced).
inline const float* dw_at(const float* row, int64_t x) {
  return reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(row) +
                                        uintptr_t(x) * uintptr_t(sizeof(float)));
}

// The lanes l of a vector load at column x that lie in a row of w columns.
inline Vec::M dw_mask(int64_t x, int64_t w) {
  const int64_t lo = std::min<int64_t>(kW, std::max<int64_t>(0, -x));
  const int64_t hi = std::min<int64_t>(kW, std::max<int64_t>(0, w - x));
  return Vec::range_mask(lo, hi);
}

// Input row j of a tile, tap kw, NC vectors x: one FMA into each output row
// r that reads it (kh = j - r*S within the kernel; resolved at compile time
// once unrolled).
template <int K, int S, int R, int NC>
inline void dw_fma(int j, int kw, const float* w, const Vec::T* x, Vec::T (&acc)[R][NC]) {
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    const int kh = j - r * S;
    if (kh < 0 || kh >= K) continue;
    const Vec::T wv = Vec::set1(w[kh * K + kw]);
#pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) acc[r][c] = Vec::fma(wv, x[c], acc[r][c]);
  }
}

// Output rows [oh, oh + R), columns [ow0, ow0 + NC * kW). EDGE: the tile
// reaches outside the plane (or past out_w): masked loads, row checks and
// partial stores; otherwise every load and store is a full vector.
template <int K, int S, int R, int NC, bool EDGE>
SIMDCONV_DW_NOINLINE void dw_tile(const DwInPlaceArgs& a, Vec::T b, int64_t oh, int64_t ow0) {
  using T = Vec::T;
  constexpr int J = (R - 1) * S + K;      // input rows read
  constexpr int L = S == 1 ? K : K + 1;   // loads per input row and column vector
  const float* w = a.weights;
  const int64_t x0 = S * ow0 - a.pad_left;  // column of tap 0 of output ow0
  // Load l of vector c reads column x0 + c*S*kW + col(l): stride 1, tap l;
  // stride 2, half l % 2 of the pair for taps (2*(l/2), 2*(l/2) + 1).
  const auto col = [](int c, int l) -> int64_t {
    return S == 1 ? int64_t(c) * kW + l : int64_t(c) * 2 * kW + 2 * (l / 2) + (l % 2) * kW;
  };
  Vec::M m[EDGE ? NC : 1][EDGE ? L : 1];
  if constexpr (EDGE) {
#pragma GCC unroll 4
    for (int c = 0; c < NC; ++c)
#pragma GCC unroll 6
      for (int l = 0; l < L; ++l) m[c][l] = dw_mask(x0 + col(c, l), a.w);
  }
  T acc[R][NC];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) acc[r][c] = b;
#pragma GCC unroll 16
  for (int j = 0; j < J; ++j) {
    const int64_t ih = oh * S - a.pad_top + j;
    const bool inside = !EDGE || (ih >= 0 && ih < a.h);
    const float* row = a.plane + (inside ? ih * a.w : 0);
    const auto load = [&](int c, int l) -> T {
      if constexpr (EDGE) return inside ? Vec::load_m(dw_at(row, x0 + col(c, l)), m[c][l]) : Vec::zero();
      else return Vec::load(row + x0 + col(c, l));
    };
    if constexpr (S == 1) {
#pragma GCC unroll 5
      for (int kw = 0; kw < K; ++kw) {
        T x[NC];
#pragma GCC unroll 4
        for (int c = 0; c < NC; ++c) x[c] = load(c, kw);
        dw_fma<K, S, R, NC>(j, kw, w, x, acc);
      }
    } else {
#pragma GCC unroll 3
      for (int kw = 0; kw < K; kw += 2) {
        T e[NC], o[NC];
#pragma GCC unroll 4
        for (int c = 0; c < NC; ++c) {
          const T lo = load(c, kw), hi = load(c, kw + 1);
          e[c] = Vec::even(lo, hi);
          o[c] = Vec::odd(lo, hi);
        }
        dw_fma<K, S, R, NC>(j, kw, w, e, acc);
        if (kw + 1 < K) dw_fma<K, S, R, NC>(j, kw + 1, w, o, acc);
      }
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    float* op = a.out + (oh + r) * a.out_w + ow0;
#pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) {
      const int64_t n = a.out_w - ow0 - int64_t(c) * kW;
      if (!EDGE || n >= kW) Vec::store(op + c * kW, acc[r][c]);
      else if (n > 0) Vec::store_n(op + c * kW, acc[r][c], n);
    }
  }
}

// The last n (< N + 1) column vectors of a row group: an EDGE tile of n.
template <int K, int S, int R, int N>
void dw_tail(const DwInPlaceArgs& a, Vec::T b, int64_t oh, int64_t ow0, int64_t n) {
  if constexpr (N > 0) {
    if (n == N) dw_tile<K, S, R, N, true>(a, b, oh, ow0);
    else dw_tail<K, S, R, N - 1>(a, b, oh, ow0, n);
  }
}

// Output rows [oh, oh + R) across the row: blocks of NC vectors, full-vector
// tiles where the block's input lies inside the plane, EDGE tiles elsewhere.
template <int K, int S, int R, int NC>
void dw_line(const DwInPlaceArgs& a, Vec::T b, int64_t oh) {
  const int64_t chunks = (a.out_w + kW - 1) / kW;
  const bool rows_inside = oh * S - a.pad_top >= 0 && (oh + R - 1) * S - a.pad_top + K <= a.h;
  int64_t c = 0;
  for (; c + NC <= chunks; c += NC) {
    const int64_t ow0 = c * kW, ow1 = ow0 + NC * kW;
    // the columns read end before S*ow1 - pad_left + K - 1 (stride 2: with
    // the odd half of the last pair, which tap K - 1 does not use)
    const bool inside = rows_inside && ow1 <= a.out_w && S * ow0 - a.pad_left >= 0 &&
                        S * ow1 - a.pad_left + K - 1 <= a.w;
    if (inside) dw_tile<K, S, R, NC, false>(a, b, oh, ow0);
    else dw_tile<K, S, R, NC, true>(a, b, oh, ow0);
  }
  dw_tail<K, S, R, NC - 1>(a, b, oh, c * kW, chunks - c);
}

// DirectKernel::dw<K>s<S>: R rows at a time, then single rows.
template <int K, int S>
void dw_in_place(const DwInPlaceArgs& a) {
  constexpr int R = DwBlock<S>::R, NC = DwBlock<S>::NC;
  const Vec::T b = a.bias != nullptr ? Vec::set1(*a.bias) : Vec::zero();
  const int64_t end = a.oh0 + a.rows;
  int64_t oh = a.oh0;
  for (; oh + R <= end; oh += R) dw_line<K, S, R, NC>(a, b, oh);
  for (; oh < end; ++oh) dw_line<K, S, 1, NC>(a, b, oh);
}

}  // namespace
}  // namespace simdconv
