// The direct kernels' tiny vector abstraction (Vec: load, store, masked
// load/store of n lanes, fma, zero, broadcast; for the in-place depthwise
// kernels on the SIMD ISAs a load masked to a row's columns, the even/odd
// deinterleave of two vectors and the lanes of two vectors from a given one
// on) per ISA, and each ISA's register budget. Included by direct-inl.h,
// dw-in-place-inl.h and pad-plane-inl.h; internal linkage only: copies built
// with different ISA flags must never be merged by the linker.
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
  using M = __mmask16;
  static M range_mask(int64_t lo, int64_t hi) {  // lanes lo <= l < hi (both in 0..16)
    return hi <= lo ? M(0) : M(((1u << hi) - 1) & ~((1u << lo) - 1));
  }
  static T load_m(const float* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
  static T even(T a, T b) {
    return _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
  }
  static T odd(T a, T b) {
    return _mm512_permutex2var_ps(a, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
  }
  template <int s>  // lanes s .. s + 15 of [a b], s in 0..16
  static T shift(T a, T b) {
    if constexpr (s == 0) return a;
    else if constexpr (s == 16) return b;
    // (maskz with all lanes: the unmasked form trips GCC 12's -Wmaybe-uninitialized)
    else return _mm512_castsi512_ps(_mm512_maskz_alignr_epi32(__mmask16(0xFFFF), _mm512_castps_si512(b),
                                                              _mm512_castps_si512(a), s));
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
  using M = __m256i;
  static M range_mask(int64_t lo, int64_t hi) {  // lanes lo <= l < hi (both in 0..8)
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(int(lo)), iota),
                               _mm256_cmpgt_epi32(_mm256_set1_epi32(int(hi)), iota));
  }
  static T load_m(const float* p, M m) { return _mm256_maskload_ps(p, m); }
  // [a0 a2 b0 b2 | a4 a6 b4 b6] within lanes, then the 64-bit pairs in order
  static T even(T a, T b) {
    const __m256 t = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  static T odd(T a, T b) {
    const __m256 t = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  template <int s>  // lanes s .. s + 7 of [a b], s in 0..8: via t = [a4..a7 b0..b3] and in-lane byte shifts
  static T shift(T a, T b) {
    if constexpr (s == 0) return a;
    else if constexpr (s == 8) return b;
    else {
      const __m256 t = _mm256_permute2f128_ps(a, b, 0x21);
      if constexpr (s == 4) return t;
      else if constexpr (s < 4)
        return _mm256_castsi256_ps(_mm256_alignr_epi8(_mm256_castps_si256(t), _mm256_castps_si256(a), 4 * s));
      else
        return _mm256_castsi256_ps(_mm256_alignr_epi8(_mm256_castps_si256(b), _mm256_castps_si256(t), 4 * (s - 4)));
    }
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
  struct M { int64_t lo, hi; };  // lanes lo <= l < hi (both in 0..4)
  static M range_mask(int64_t lo, int64_t hi) { return M{lo, hi}; }
  static T load_m(const float* p, M m) {  // no masked loads: only the lanes in range are read
    if (m.lo == 0 && m.hi == 4) return vld1q_f32(p);
    float t[4] = {0, 0, 0, 0};
    for (int64_t i = m.lo; i < m.hi; ++i) t[i] = p[i];
    return vld1q_f32(t);
  }
  static T even(T a, T b) { return vuzp1q_f32(a, b); }
  static T odd(T a, T b) { return vuzp2q_f32(a, b); }
  template <int s>  // lanes s .. s + 3 of [a b], s in 0..4
  static T shift(T a, T b) {
    if constexpr (s == 0) return a;
    else if constexpr (s == 4) return b;
    else return vextq_f32(a, b, s);
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

}  // namespace
}  // namespace simdconv
