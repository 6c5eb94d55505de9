// The direct kernels' tiny vector abstraction (Vec: load, store, masked
// load/store of n lanes, fma, zero, broadcast) per ISA, and each ISA's
// register budget. Included by direct-inl.h and pad-plane-inl.h; internal
// linkage only: copies built with different ISA flags must never be merged
// by the linker.
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

}  // namespace
}  // namespace simdconv
