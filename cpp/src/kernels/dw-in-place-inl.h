// The in-place depthwise kernels (DwInPlaceArgs in direct_kernel.h): one
// family for k x k kernels (k = 3, 5) at stride 1 or 2, written once over the
// vector abstraction of direct-vec-inl.h and instantiated per ISA by the
// f32-direct-*.cpp files. Internal linkage only: copies built with different
// ISA flags must never be merged by the linker.
//
// A tile is R output rows x NC vectors of output columns. It walks the
// (R - 1) * S + k input rows those rows read, loading each input vector once
// and using it for every output row that reads it (k of them in the steady
// state, from registers). Stride 1: the NC + 1 vectors from column
// ow0 - pad_left on give tap kw as the lanes kw on of two neighbours
// (Vec::shift). Stride 2: each pair of vectors is deinterleaved once into its
// even and odd columns (E, O); tap kw is then E (kw even) or O (kw odd)
// shifted by kw / 2 lanes. The border is handled in registers: tiles that
// reach past the plane (or start before it) load with masks to the row's
// columns, so the padding reads as zeros and nothing outside the plane is
// read; rows above or below the plane are zero vectors. The zeros are still
// multiplied, and per element the taps are added after the bias in (kh, kw)
// order, as fn() does on the padded copy: bitwise the same result, whatever
// the tile.
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "direct-vec-inl.h"
#include "simdconv/direct_kernel.h"

#if defined(_MSC_VER) && !defined(__clang__)
#define SIMDCONV_DW_NOINLINE __declspec(noinline)
#else
#define SIMDCONV_DW_NOINLINE __attribute__((noinline))
#endif

namespace simdconv {
namespace {

// Rows x column vectors per tile, per kernel size and stride: R * NC
// accumulators, the input vectors of one row (NC + 1; stride 2: the E and O
// of NC + 1) and as many of the k*k weights as fit in the register file (32
// vectors: AVX-512, NEON; 16: AVX2, the portable build). More rows share
// each loaded input row among more outputs; fewer leave room for the
// weights and the stride-2 E and O vectors. Chosen by bench_kernels dw on
// the shapes of MobileNetV2 and EfficientNet.
template <int K, int S>
struct DwBlock {
  static constexpr bool kWide = kMaxAcc >= 16;  // 32 vector registers
  static constexpr int R = S == 1 ? 4 : 2;
  static constexpr int NC = !kWide ? 2 : S == 2 || K == 3 ? 4 : 2;
};

// f(integral_constant<int, i>) for i = 0 .. N-1, unrolled: the tap and row
// indices become constants (lane shifts need them at compile time).
template <class F, int... I>
inline void dw_static_for(F&& f, std::integer_sequence<int, I...>) {
  (f(std::integral_constant<int, I>()), ...);
}
template <int N, class F>
inline void dw_static_for(F&& f) {
  dw_static_for(f, std::make_integer_sequence<int, N>());
}

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

// Output rows [oh, oh + R), columns [ow0, ow0 + NC * kW). EDGE: the tile
// reaches outside the plane (or past out_w): masked loads, row checks and
// partial stores; otherwise every load and store is a full vector.
// wv: the k*k weights, each broadcast to a vector (in memory: an FMA reads
// one as its operand where the registers do not hold it); m: the masks of
// the row's loads (EDGE only).
template <int K, int S, int R, int NC, bool EDGE>
SIMDCONV_DW_NOINLINE void dw_tile(const DwInPlaceArgs& a, const Vec::T* wv, const Vec::M* m, Vec::T b,
                                  int64_t oh, int64_t ow0) {
  using T = Vec::T;
  constexpr int J = (R - 1) * S + K;                // input rows read
  constexpr int NL = S == 1 ? NC + 1 : 2 * NC + 1;  // vectors loaded per input row
  // Load l of an input row: kW floats from column x0 + l * kW.
  const int64_t x0 = S * ow0 - a.pad_left;
  T acc[R][NC];
  dw_static_for<R>([&](auto r) { dw_static_for<NC>([&](auto c) { acc[r][c] = b; }); });
  dw_static_for<J>([&](auto j) {
    const int64_t ih = oh * S - a.pad_top + j;
    T v[NL];
    if (!EDGE || (ih >= 0 && ih < a.h)) {
      const float* row = a.plane + ih * a.w;
      dw_static_for<NL>([&](auto l) {
        if constexpr (EDGE) v[l] = Vec::load_m(dw_at(row, x0 + l * kW), m[l]);
        else v[l] = Vec::load(row + x0 + l * kW);
      });
    } else {
      dw_static_for<NL>([&](auto l) { v[l] = Vec::zero(); });
    }
    // Stride 2: E and O of each pair (the last vector alone: only its first
    // (K - 1) / 2 even and odd columns are used).
    T e[S == 2 ? NC + 1 : 1], o[S == 2 ? NC + 1 : 1];
    if constexpr (S == 2)
      dw_static_for<NC + 1>([&](auto c) {
        T hi;
        if constexpr (c < NC) hi = v[2 * c + 1];
        else hi = v[2 * c];
        e[c] = Vec::even(v[2 * c], hi);
        o[c] = Vec::odd(v[2 * c], hi);
      });
    // chunk by chunk (one shifted vector live at a time), taps in kw order
    dw_static_for<NC>([&](auto c) {
      dw_static_for<K>([&](auto kw) {
        T x;
        if constexpr (S == 1) x = Vec::template shift<kw>(v[c], v[c + 1]);
        else if constexpr (kw % 2 == 0) x = Vec::template shift<kw / 2>(e[c], e[c + 1]);
        else x = Vec::template shift<kw / 2>(o[c], o[c + 1]);
        // one FMA into each output row r that reads input row j at this tap
        dw_static_for<R>([&](auto r) {
          constexpr int kh = int(j) - int(r) * S;
          if constexpr (kh >= 0 && kh < K) {
            acc[r][c] = Vec::fma(wv[kh * K + kw], x, acc[r][c]);
          }
        });
      });
    });
  });
  dw_static_for<R>([&](auto r) {
    float* op = a.out + (oh + r) * a.out_w + ow0;
    dw_static_for<NC>([&](auto c) {
      const int64_t n = a.out_w - ow0 - int64_t(c) * kW;
      if (!EDGE || n >= kW) Vec::store(op + c * kW, acc[r][c]);
      else if (n > 0) Vec::store_n(op + c * kW, acc[r][c], n);
    });
  });
}

// Output columns [ow0, ow0 + NC * kW) down the rows: R rows at a time,
// then single rows. The masks of the loads are the same for every row.
template <int K, int S, int R, int NC>
void dw_column(const DwInPlaceArgs& a, const Vec::T* wv, Vec::T b, int64_t ow0) {
  constexpr int NL = S == 1 ? NC + 1 : 2 * NC + 1;  // as dw_tile
  const int64_t x0 = S * ow0 - a.pad_left;
  Vec::M m[NL];
  for (int l = 0; l < NL; ++l) m[l] = dw_mask(x0 + l * kW, a.w);
  const bool cols_inside = ow0 + NC * kW <= a.out_w && x0 >= 0 && x0 + NL * kW <= a.w;
  const auto rows_inside = [&](int64_t oh, int64_t rows) {
    return oh * S - a.pad_top >= 0 && (oh + rows - 1) * S - a.pad_top + K <= a.h;
  };
  const int64_t end = a.oh0 + a.rows;
  int64_t oh = a.oh0;
  for (; oh + R <= end; oh += R) {
    if (cols_inside && rows_inside(oh, R)) dw_tile<K, S, R, NC, false>(a, wv, m, b, oh, ow0);
    else dw_tile<K, S, R, NC, true>(a, wv, m, b, oh, ow0);
  }
  for (; oh < end; ++oh) {
    if (cols_inside && rows_inside(oh, 1)) dw_tile<K, S, 1, NC, false>(a, wv, m, b, oh, ow0);
    else dw_tile<K, S, 1, NC, true>(a, wv, m, b, oh, ow0);
  }
}

// The last n (< N + 1) column vectors: a column of n.
template <int K, int S, int R, int N>
void dw_tail(const DwInPlaceArgs& a, const Vec::T* wv, Vec::T b, int64_t ow0, int64_t n) {
  if constexpr (N > 0) {
    if (n == N) dw_column<K, S, R, N>(a, wv, b, ow0);
    else dw_tail<K, S, R, N - 1>(a, wv, b, ow0, n);
  }
}

// DirectKernel::dw<K>s<S>: columns of NC vectors (the last one narrower),
// each down the rows [oh0, oh0 + rows), as the tiles read the input: a column
// of input rows stays in L1 between its row groups.
template <int K, int S>
void dw_in_place(const DwInPlaceArgs& a) {
  constexpr int R = DwBlock<K, S>::R, NC = DwBlock<K, S>::NC;
  Vec::T wv[K * K];
  for (int t = 0; t < K * K; ++t) wv[t] = Vec::set1(a.weights[t]);
  const Vec::T b = a.bias != nullptr ? Vec::set1(*a.bias) : Vec::zero();
  const int64_t chunks = (a.out_w + kW - 1) / kW;
  int64_t c = 0;
  for (; c + NC <= chunks; c += NC) dw_column<K, S, R, NC>(a, wv, b, c * kW);
  dw_tail<K, S, R, NC - 1>(a, wv, b, c * kW, chunks - c);
}

}  // namespace
}  // namespace simdconv
