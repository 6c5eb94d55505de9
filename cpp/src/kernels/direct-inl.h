// Direct convolution kernels (see direct_kernel.h), written once over a tiny
// vector abstraction and instantiated per ISA by the f32-direct-*.cpp files.
// Internal linkage only: copies built with different ISA flags must never be
// merged by the linker.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
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

// OB output channels x NCH vectors of one output row at a time: OB*NCH
// accumulators; every loaded input vector feeds OB FMAs.
template <int OB, int NCH>
void direct_block(const DirectArgs& a, int64_t o0) {
  using T = Vec::T;
  const int64_t taps = a.taps, out_w = a.out_w;
  const float* w = a.w + o0 * taps;
  for (int64_t oh = 0; oh < a.out_h; ++oh) {
    const float* base = a.in + oh * a.row_step;
    float* orow = a.out + o0 * a.out_stride + oh * a.out_row_stride;
    for (int64_t ow = 0; ow < out_w; ow += NCH * kW) {
      T acc[OB][NCH];
#pragma GCC unroll 4
      for (int o = 0; o < OB; ++o) {
        const T b = a.bias ? Vec::set1(a.bias[o0 + o]) : Vec::zero();
#pragma GCC unroll 4
        for (int c = 0; c < NCH; ++c) acc[o][c] = b;
      }
      const float* src = base + ow;
      for (int64_t t = 0; t < taps; ++t) {
        const float* s = src + a.tap_off[t];
        T x[NCH];
#pragma GCC unroll 4
        for (int c = 0; c < NCH; ++c) x[c] = Vec::load(s + c * kW);
#pragma GCC unroll 4
        for (int o = 0; o < OB; ++o) {
          const T wv = Vec::set1(w[o * taps + t]);
#pragma GCC unroll 4
          for (int c = 0; c < NCH; ++c) acc[o][c] = Vec::fma(wv, x[c], acc[o][c]);
        }
      }
      const int64_t left = out_w - ow;
#pragma GCC unroll 4
      for (int o = 0; o < OB; ++o) {
        float* op = orow + o * a.out_stride + ow;
#pragma GCC unroll 4
        for (int c = 0; c < NCH; ++c) {
          const int64_t n = left - c * kW;
          if (n >= kW) Vec::store(op + c * kW, acc[o][c]);
          else if (n > 0) Vec::store_n(op + c * kW, acc[o][c], n);
        }
      }
    }
  }
}

// Register budget: OB*NCH accumulators + NCH inputs + 1 weight.
#if defined(__AVX512F__)
constexpr int kMaxAcc = 16;
#else
constexpr int kMaxAcc = 8;
#endif

template <int OB>
void direct_rows(const DirectArgs& a, int64_t o0, int nch) {
  constexpr int n4 = OB * 4 <= kMaxAcc ? 4 : kMaxAcc / OB;
  constexpr int n3 = n4 < 3 ? n4 : 3;
  constexpr int n2 = n4 < 2 ? n4 : 2;
  switch (std::min(nch, n4)) {
    case 4: direct_block<OB, n4>(a, o0); break;
    case 3: direct_block<OB, n3>(a, o0); break;
    case 2: direct_block<OB, n2>(a, o0); break;
    default: direct_block<OB, 1>(a, o0); break;
  }
}

void direct_run(const DirectArgs& a) {
  // Vectors per row step: as many as the row needs, up to 4.
  const int nch = int(std::min<int64_t>(4, (a.out_w + kW - 1) / kW));
  int64_t o = 0;
  for (; o + 4 <= a.n_out; o += 4) direct_rows<4>(a, o, nch);
  switch (a.n_out - o) {
    case 3: direct_rows<3>(a, o, nch); break;
    case 2: direct_rows<2>(a, o, nch); break;
    case 1: direct_rows<1>(a, o, nch); break;
    default: break;
  }
}

// dst[x % s * wq + x / s] = row[x] for a padded row of n floats, s = 2.
inline void split2(const float* row, int64_t n, int64_t wq, float* dst) {
  int64_t x = 0;
#if defined(__AVX512F__)
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  for (; x + 32 <= n; x += 32) {
    const __m512 lo = _mm512_loadu_ps(row + x), hi = _mm512_loadu_ps(row + x + 16);
    _mm512_storeu_ps(dst + x / 2, _mm512_permutex2var_ps(lo, even, hi));
    _mm512_storeu_ps(dst + wq + x / 2, _mm512_permutex2var_ps(lo, odd, hi));
  }
#elif defined(__AVX2__)
  for (; x + 16 <= n; x += 16) {
    const __m256 lo = _mm256_loadu_ps(row + x), hi = _mm256_loadu_ps(row + x + 8);
    // within 128-bit lanes: evens [lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6], then fix the lane order
    const __m256 e = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 o = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
    _mm256_storeu_ps(dst + x / 2, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8)));
    _mm256_storeu_ps(dst + wq + x / 2, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), 0xD8)));
  }
#endif
  for (; x < n; ++x) dst[(x & 1) * wq + (x >> 1)] = row[x];
}

void pad_row(const PadRowArgs& a) {
  const int64_t n = a.w + a.pad_left + a.pad_right;
  // Build the padded row contiguously (in place when there is one phase).
  thread_local float* tmp = nullptr;
  thread_local int64_t tmp_n = 0;
  float* row = a.dst;
  if (a.stride > 1) {
    if (tmp_n < n) {
      delete[] tmp;
      tmp = new float[size_t(n)];
      tmp_n = n;
    }
    row = tmp;
  }
  if (a.src == nullptr) {
    std::fill(row, row + n, 0.0f);
  } else {
    for (int64_t x = 0; x < a.pad_left; ++x) {
      const int64_t i = map_index(x - a.pad_left, a.w, a.mode);
      row[x] = i < 0 ? 0.0f : a.src[i];
    }
    std::memcpy(row + a.pad_left, a.src, size_t(a.w) * sizeof(float));
    for (int64_t x = a.pad_left + a.w; x < n; ++x) {
      const int64_t i = map_index(x - a.pad_left, a.w, a.mode);
      row[x] = i < 0 ? 0.0f : a.src[i];
    }
  }
  if (a.stride == 1) return;
  if (a.stride == 2) {
    split2(row, n, a.wq, a.dst);
    return;
  }
  for (int64_t x = 0; x < n; ++x) a.dst[(x % a.stride) * a.wq + x / a.stride] = row[x];
}

}  // namespace
}  // namespace simdconv
