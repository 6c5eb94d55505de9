// The activation kernels' vector operations (AV) per ISA: arithmetic, fused
// multiply-add, comparisons to a lane mask, select, sign-bit manipulation,
// rounding and 2^n, plus loads/stores of the first n lanes that touch no
// memory past them. One AV per translation unit, chosen by the compiler's
// ISA flags (NEON by SIMDCONV_ACT_NEON, set by f32-act-neon.cpp: NEON is
// baseline on AArch64, and the scalar build must stay portable).
// Internal linkage only: copies built with different ISA flags must never be
// merged by the linker.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif
#if defined(SIMDCONV_ACT_NEON)
#include <arm_neon.h>
#endif

namespace simdconv {
namespace {

#if defined(__AVX512F__)
struct AV {
  using T = __m512;
  using M = __mmask16;
  static constexpr size_t kW = 16;
  static T set1(float x) { return _mm512_set1_ps(x); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  // Masked: lanes >= n are neither read nor written (no fault past the end).
  static T load_n(const float* p, size_t n) { return _mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), p); }
  static void store_n(float* p, T v, size_t n) { _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), v); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T div(T a, T b) { return _mm512_div_ps(a, b); }
  static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }    // a*b + c, fused
  static T fnma(T a, T b, T c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a*b, fused
  static T min(T a, T b) { return _mm512_min_ps(a, b); }
  static T max(T a, T b) { return _mm512_max_ps(a, b); }
  static M gt(T a, T b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static M lt(T a, T b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M eq(T a, T b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
  static M is_nan(T a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
  static T select(M m, T a, T b) { return _mm512_mask_blend_ps(m, b, a); }  // m ? a : b
  static T sign_bits(T a) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(INT32_MIN))); }
  static T abs(T a) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(INT32_MAX))); }
  static T or_bits(T a, T b) { return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b))); }
  static T round(T a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T floor(T a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  // 2^n for integral n in [-126, 127].
  static T pow2i(T n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
  }
};
#elif defined(__AVX2__)
struct AV {
  using T = __m256;
  using M = __m256;  // all-ones / all-zeros lanes
  static constexpr size_t kW = 8;
  static T set1(float x) { return _mm256_set1_ps(x); }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  // vmaskmov: masked-off lanes are neither read nor written (no fault past the end).
  static __m256i lanes_below(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static T load_n(const float* p, size_t n) { return _mm256_maskload_ps(p, lanes_below(n)); }
  static void store_n(float* p, T v, size_t n) { _mm256_maskstore_ps(p, lanes_below(n), v); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T div(T a, T b) { return _mm256_div_ps(a, b); }
  static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T fnma(T a, T b, T c) { return _mm256_fnmadd_ps(a, b, c); }
  static T min(T a, T b) { return _mm256_min_ps(a, b); }
  static T max(T a, T b) { return _mm256_max_ps(a, b); }
  static M gt(T a, T b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static M lt(T a, T b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static M eq(T a, T b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
  static M is_nan(T a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
  static T select(M m, T a, T b) { return _mm256_blendv_ps(b, a, m); }
  static T sign_bits(T a) { return _mm256_and_ps(a, _mm256_set1_ps(-0.0f)); }
  static T abs(T a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static T or_bits(T a, T b) { return _mm256_or_ps(a, b); }
  static T round(T a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T floor(T a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static T pow2i(T n) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
  }
};
#elif defined(SIMDCONV_ACT_NEON)
struct AV {
  using T = float32x4_t;
  using M = uint32x4_t;
  static constexpr size_t kW = 4;
  static T set1(float x) { return vdupq_n_f32(x); }
  static T load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, T v) { vst1q_f32(p, v); }
  // NEON has no masked loads: the first n (< 4) lanes through a small buffer.
  static T load_n(const float* p, size_t n) {
    float t[4] = {0, 0, 0, 0};
    std::memcpy(t, p, n * sizeof(float));
    return vld1q_f32(t);
  }
  static void store_n(float* p, T v, size_t n) {
    float t[4];
    vst1q_f32(t, v);
    std::memcpy(p, t, n * sizeof(float));
  }
  static T add(T a, T b) { return vaddq_f32(a, b); }
  static T sub(T a, T b) { return vsubq_f32(a, b); }
  static T mul(T a, T b) { return vmulq_f32(a, b); }
  static T div(T a, T b) { return vdivq_f32(a, b); }
  static T fma(T a, T b, T c) { return vfmaq_f32(c, a, b); }
  static T fnma(T a, T b, T c) { return vfmsq_f32(c, a, b); }
  static T min(T a, T b) { return vminq_f32(a, b); }
  static T max(T a, T b) { return vmaxq_f32(a, b); }
  static M gt(T a, T b) { return vcgtq_f32(a, b); }
  static M lt(T a, T b) { return vcltq_f32(a, b); }
  static M eq(T a, T b) { return vceqq_f32(a, b); }
  static M is_nan(T a) { return vmvnq_u32(vceqq_f32(a, a)); }
  static T select(M m, T a, T b) { return vbslq_f32(m, a, b); }
  static T sign_bits(T a) { return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(a), vdupq_n_u32(0x80000000u))); }
  static T abs(T a) { return vabsq_f32(a); }
  static T or_bits(T a, T b) { return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b))); }
  static T round(T a) { return vrndnq_f32(a); }
  static T floor(T a) { return vrndmq_f32(a); }
  static T pow2i(T n) {
    return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23));
  }
};
#else
// Portable: one lane. Built with -ffp-contract=off, so fma() is a rounded
// multiply then an add, like the scalar GEMM kernel.
struct AV {
  using T = float;
  using M = bool;
  static constexpr size_t kW = 1;
  static T set1(float x) { return x; }
  static T load(const float* p) { return *p; }
  static void store(float* p, T v) { *p = v; }
  static T load_n(const float* p, size_t) { return *p; }  // never called: kW == 1 leaves no tail
  static void store_n(float* p, T v, size_t) { *p = v; }
  static T add(T a, T b) { return a + b; }
  static T sub(T a, T b) { return a - b; }
  static T mul(T a, T b) { return a * b; }
  static T div(T a, T b) { return a / b; }
  static T fma(T a, T b, T c) { return a * b + c; }
  static T fnma(T a, T b, T c) { return c - a * b; }
  // As minps/maxps: the second operand when either is NaN (so a clamp of NaN
  // gives a number, and no NaN ever reaches an int conversion).
  static T min(T a, T b) { return a < b ? a : b; }
  static T max(T a, T b) { return a > b ? a : b; }
  static M gt(T a, T b) { return a > b; }
  static M lt(T a, T b) { return a < b; }
  static M eq(T a, T b) { return a == b; }
  static M is_nan(T a) { return a != a; }
  static T select(M m, T a, T b) { return m ? a : b; }
  static uint32_t bits(T a) { uint32_t u; std::memcpy(&u, &a, 4); return u; }
  static T from_bits(uint32_t u) { T a; std::memcpy(&a, &u, 4); return a; }
  static T sign_bits(T a) { return from_bits(bits(a) & 0x80000000u); }
  static T abs(T a) { return from_bits(bits(a) & 0x7fffffffu); }
  static T or_bits(T a, T b) { return from_bits(bits(a) | bits(b)); }
  static T round(T a) { return std::nearbyint(a); }  // the default rounding mode: to nearest, ties to even
  static T floor(T a) { return std::floor(a); }
  static T pow2i(T n) { return from_bits(uint32_t(int32_t(n) + 127) << 23); }
};
#endif

}  // namespace
}  // namespace simdconv
