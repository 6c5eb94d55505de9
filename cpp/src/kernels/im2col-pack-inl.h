// Fast implicit-im2col B packing, shared by every ISA translation unit.
//
// Included by each GEMM kernel file, the scalar one too (each compiled with
// its ISA's flags, so the fixed-size copies become full-width vector moves).
// Everything here has internal linkage: the copies built with
// different flags must never be merged by the linker.
//
// Per call the output pixels [p0, p0+np) are cut into "segments": runs of
// pixels of one micro-panel that lie in one output row. Segments do not
// depend on the K row, so they are built once per call; each K row (input
// channel, kernel tap) then copies every segment with a contiguous copy (or a
// strided gather) and only the border segments go through map_index().
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#include "simdconv/checked_math.h"
#include "simdconv/conv_params.h"
#include "simdconv/pack.h"

namespace simdconv {
namespace {

struct Im2colSeg {
  int32_t col, len;  // columns [col, col+len) of the micro-panel
  int64_t panel;     // micro-panel index
  int64_t ih0, iw0;  // input row/col of the first pixel for tap (0,0), before padding maps
};

// Copies / zero-fills of short runs (len <= NR), with the widest vectors the
// translation unit's flags allow; masked so no byte outside the run is touched.
inline void copy_run(float* o, const float* src, int64_t len) {
#if defined(__AVX512F__)
  for (; len >= 16; len -= 16, o += 16, src += 16) _mm512_storeu_ps(o, _mm512_loadu_ps(src));
  if (len > 0) {
    const __mmask16 m = __mmask16((1u << len) - 1);
    _mm512_mask_storeu_ps(o, m, _mm512_maskz_loadu_ps(m, src));
  }
#elif defined(__AVX2__)
  for (; len >= 8; len -= 8, o += 8, src += 8) _mm256_storeu_ps(o, _mm256_loadu_ps(src));
  if (len > 0) {
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(len)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_maskstore_ps(o, m, _mm256_maskload_ps(src, m));
  }
#else
  for (int64_t t = 0; t < len; ++t) o[t] = src[t];
#endif
}

inline void zero_run(float* o, int64_t len) {
#if defined(__AVX512F__)
  for (; len >= 16; len -= 16, o += 16) _mm512_storeu_ps(o, _mm512_setzero_ps());
  if (len > 0) _mm512_mask_storeu_ps(o, __mmask16((1u << len) - 1), _mm512_setzero_ps());
#else
  for (int64_t t = 0; t < len; ++t) o[t] = 0.0f;
#endif
}

#if defined(__AVX512F__) || defined(__AVX2__)
// o[t] = src[t] for t in [t_lo, t_hi), 0 for the rest of [0, len): a run that
// hangs over a zero-padded border in one pass. Only src[t_lo .. t_hi) is read
// (masked loads; the lanes outside are never accessed).
inline void copy_run_clipped(float* o, const float* src, int64_t len, int64_t t_lo, int64_t t_hi) {
#if defined(__AVX512F__)
  constexpr int64_t V = 16;
#else
  constexpr int64_t V = 8;
#endif
  for (int64_t c = 0; c < len; c += V) {
    const int64_t n = std::min(V, len - c);
    const int64_t lo = std::min(V, std::max<int64_t>(0, t_lo - c));
    const int64_t hi = std::max(lo, std::min(V, t_hi - c));
    const float* s = reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(src) +
                                                    uintptr_t(c * int64_t(sizeof(float))));
#if defined(__AVX512F__)
    const __mmask16 st = __mmask16((1u << n) - 1);
    const __mmask16 ld = __mmask16(((1u << hi) - 1) & ~((1u << lo) - 1));
    _mm512_mask_storeu_ps(o + c, st, _mm512_maskz_loadu_ps(ld, s));
#else
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i st = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), idx);
    const __m256i ld = _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(int(lo)), idx),
                                           _mm256_cmpgt_epi32(_mm256_set1_epi32(int(hi)), idx));
    _mm256_maskstore_ps(o + c, st, _mm256_maskload_ps(s, ld));
#endif
  }
}
#define SIMDCONV_HAVE_COPY_RUN_CLIPPED 1

// A run of one input row starting at column iw (possibly far outside the
// row: a huge padding or dilation puts it up to 2^62 columns away), of
// which [t_lo, t_hi) lies inside: zeros when nothing does, so that the row
// address row + iw is only formed for a run that overlaps the row (then
// |iw| < len + W and the byte offset cannot overflow).
inline void copy_clipped_or_zero(float* o, const float* row, int64_t iw, int64_t len, int64_t t_lo,
                                 int64_t t_hi) {
  if (t_lo >= t_hi) {
    zero_run(o, len);
    return;
  }
  const float* src = reinterpret_cast<const float*>(
      reinterpret_cast<uintptr_t>(row) + uintptr_t(iw * int64_t(sizeof(float))));
  copy_run_clipped(o, src, len, t_lo, t_hi);
}
#endif

// o[t] = src[2t] for t < len.
inline void copy_run_stride2(float* o, const float* src, int64_t len) {
#if defined(__AVX512F__)
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (; len >= 16; len -= 16, o += 16, src += 32) {
    // the second load may read one float past the last one used: mask it off
    const __m512 lo = _mm512_loadu_ps(src);
    const __m512 hi = _mm512_maskz_loadu_ps(__mmask16(0x7FFF), src + 16);
    _mm512_storeu_ps(o, _mm512_permutex2var_ps(lo, even, hi));
  }
  if (len > 0) {
    const int64_t need = 2 * len - 1;  // floats read: src[0 .. 2len-2]
    const __mmask16 mlo = need >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << need) - 1);
    const __mmask16 mhi = need > 16 ? __mmask16((1u << (need - 16)) - 1) : __mmask16(0);
    const __m512 lo = _mm512_maskz_loadu_ps(mlo, src);
    const __m512 hi = _mm512_maskz_loadu_ps(mhi, src + 16);
    _mm512_mask_storeu_ps(o, __mmask16((1u << len) - 1), _mm512_permutex2var_ps(lo, even, hi));
  }
#else
  for (int64_t t = 0; t < len; ++t) o[t] = src[2 * t];
#endif
}

struct PaddedSeg {
  int64_t dst, src, len;  // panel offset, offset in a padded channel band, run length
};

// Zero padding, unit column stride: the input rows of the K block's channels
// that the pixel range reads are first copied into a zero-padded band, so that
// every segment of every K row is then one unconditional copy (no border
// tests, no clipped masks). Returns false (nothing done) when the band would
// be larger than the cap.
template <int NR>
bool pack_im2col_padded(const LayerParams& p, const Im2colSource& src, int64_t k0, int64_t kc_len,
                        int64_t p0, int64_t np, int64_t panel_stride, float* dst) {
  constexpr int64_t kMaxBand = int64_t(1) << 15;  // floats (128 KiB per thread)
  thread_local std::vector<float> band;
  thread_local std::vector<PaddedSeg> segs;
  const int64_t taps = p.kernel_h * p.kernel_w;
  const int64_t H = src.height, W = src.width, Wout = src.out_width;
  const int64_t sh = p.stride_h, pt = p.pad_top, pl = p.pad_left;
  const int64_t dh = p.dilation_h, dw = p.dilation_w;
  const int64_t oh_first = p0 / Wout, oh_last = (p0 + np - 1) / Wout;
  const int64_t ih_lo = oh_first * sh - pt;
  const int64_t R = (oh_last - oh_first) * sh + (p.kernel_h - 1) * dh + 1;
  const int64_t Wp = (Wout - 1) + (p.kernel_w - 1) * dw + 1;  // band column x reads iw = x - pl
  const int64_t ci0 = k0 / taps, ci1 = (k0 + kc_len - 1) / taps;
  // R and Wp reach 2^62 with a huge dilation or stride: their product is
  // only formed when it fits under the cap.
  const int64_t band_n = product_or_neg({ci1 - ci0 + 1, R, Wp}, kMaxBand);
  if (band_n < 0) return false;
  const int64_t plane = R * Wp;
  if (int64_t(band.size()) < band_n) band.resize(size_t(band_n));
  float* bd = band.data();
  const int64_t x_lo = std::min(Wp, std::max<int64_t>(0, pl)), x_hi = std::max(x_lo, std::min(Wp, W + pl));
  for (int64_t ci = ci0; ci <= ci1; ++ci) {
    const float* in = src.input + ci * H * W;
    for (int64_t r = 0; r < R; ++r) {
      float* o = bd + (ci - ci0) * plane + r * Wp;
      const int64_t ih = ih_lo + r;
      if (uint64_t(ih) >= uint64_t(H)) {
        std::fill(o, o + Wp, 0.0f);
        continue;
      }
      std::fill(o, o + x_lo, 0.0f);
      std::memcpy(o + x_lo, in + ih * W + (x_lo - pl), size_t(x_hi - x_lo) * sizeof(float));
      std::fill(o + x_hi, o + Wp, 0.0f);
    }
  }
  const int64_t panels = (np + NR - 1) / NR;
  segs.clear();
  for (int64_t j = 0; j < panels; ++j) {
    const int64_t q0 = p0 + j * NR;
    const int64_t cols = std::min<int64_t>(NR, p0 + np - q0);
    for (int64_t c = 0; c < cols;) {
      const int64_t q = q0 + c;
      const int64_t oh = q / Wout, ow0 = q % Wout;
      const int64_t run = std::min(cols - c, Wout - ow0);
      segs.push_back({j * panel_stride + c, (oh - oh_first) * sh * Wp + ow0, run});
      c += run;
    }
  }
  const PaddedSeg* sg = segs.data();
  const int64_t n_segs = int64_t(segs.size());
  const int64_t last_cols = np - (panels - 1) * NR;
  int64_t ci = ci0, kh = (k0 % taps) / p.kernel_w, kw = (k0 % taps) % p.kernel_w;
  for (int64_t kk = 0; kk < kc_len; ++kk) {
    const float* base = bd + (ci - ci0) * plane + kh * dh * Wp + kw * dw;
    float* out_k = dst + kk * NR;
    if (++kw == p.kernel_w) {
      kw = 0;
      if (++kh == p.kernel_h) { kh = 0; ++ci; }
    }
    for (int64_t si = 0; si < n_segs; ++si) copy_run(out_k + sg[si].dst, base + sg[si].src, sg[si].len);
    if (last_cols < NR) zero_run(out_k + (panels - 1) * panel_stride + last_cols, NR - last_cols);
  }
  return true;
}

template <int NR>
void pack_im2col_impl(const LayerParams& p, const Im2colSource& src, int64_t k0, int64_t kc_len,
                      int64_t p0, int64_t np, int64_t panel_stride, float* dst) {
  if (p.pad_mode == PadMode::Zeros && p.stride_w == 1 && np > 0 &&
      pack_im2col_padded<NR>(p, src, k0, kc_len, p0, np, panel_stride, dst))
    return;
  thread_local std::vector<Im2colSeg> segs;
  thread_local std::vector<int32_t> seg_begin;
  const int64_t taps = p.kernel_h * p.kernel_w;
  const int64_t panels = (np + NR - 1) / NR;
  // A 1x1 stride-1 unpadded layer reads each channel plane as one flat row.
  const bool flat = p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 &&
                    p.pad_top == 0 && p.pad_bottom == 0 && p.pad_left == 0 && p.pad_right == 0;
  const int64_t H = flat ? 1 : src.height, W = flat ? src.height * src.width : src.width;
  const int64_t Wout = flat ? src.height * src.width : src.out_width;
  const int64_t plane_size = src.height * src.width;
  const int64_t sh = flat ? 1 : p.stride_h, sw = flat ? 1 : p.stride_w;
  const int64_t pt = flat ? 0 : p.pad_top, pl = flat ? 0 : p.pad_left;
  segs.clear();
  seg_begin.resize(size_t(panels + 1));
  for (int64_t j = 0; j < panels; ++j) {
    seg_begin[size_t(j)] = int32_t(segs.size());
    const int64_t q0 = p0 + j * NR;
    const int64_t cols = std::min<int64_t>(NR, p0 + np - q0);
    int64_t c = 0;
    while (c < cols) {
      const int64_t q = q0 + c;
      const int64_t oh = q / Wout, ow0 = q % Wout;
      const int64_t run = std::min(cols - c, Wout - ow0);
      segs.push_back({int32_t(c), int32_t(run), j, oh * sh - pt, ow0 * sw - pl});
      c += run;
    }
  }
  seg_begin[size_t(panels)] = int32_t(segs.size());
  const Im2colSeg* sg = segs.data();
  const int32_t* sb = seg_begin.data();
  const int64_t last_cols = np - (panels - 1) * NR;
  const PadMode mode = p.pad_mode;

  // (ci, kh, kw) of row k0, then stepped without divisions.
  int64_t ci = k0 / taps, kh = (k0 % taps) / p.kernel_w, kw = (k0 % taps) % p.kernel_w;
  for (int64_t kk = 0; kk < kc_len; ++kk) {
    const int64_t khd = kh * p.dilation_h, kwd = kw * p.dilation_w;
    const float* plane = src.input + ci * plane_size;
    float* out_k = dst + kk * NR;
    if (++kw == p.kernel_w) {
      kw = 0;
      if (++kh == p.kernel_h) { kh = 0; ++ci; }
    }
#if defined(SIMDCONV_HAVE_COPY_RUN_CLIPPED)
    if (mode == PadMode::Zeros && sw == 1) {
      // Zero padding, unit stride: every segment is one clipped copy of an
      // input row (or zeros above/below the image).
      for (int64_t si = 0, s_end = sb[panels]; si < s_end; ++si) {
        const Im2colSeg& s = sg[si];
        const int64_t ih = s.ih0 + khd, iw = s.iw0 + kwd;
        float* o = out_k + s.panel * panel_stride + s.col;
        const int64_t len = s.len;
        if (uint64_t(ih) >= uint64_t(H)) {
          zero_run(o, len);
        } else if (iw >= 0 && iw + len <= W) {
          copy_run(o, plane + ih * W + iw, len);
        } else {
          const int64_t t_lo = std::min(len, std::max<int64_t>(0, -iw));
          const int64_t t_hi = std::max(t_lo, std::min(len, W - iw));
          copy_clipped_or_zero(o, plane + ih * W, iw, len, t_lo, t_hi);
        }
      }
      if (last_cols < NR) zero_run(out_k + (panels - 1) * panel_stride + last_cols, NR - last_cols);
      continue;
    }
#endif
    for (int64_t j = 0; j < panels; ++j) {
      float* out = out_k + j * panel_stride;
      const int32_t s_end = sb[j + 1];
      for (int32_t si = sb[j]; si < s_end; ++si) {
        const Im2colSeg& s = sg[si];
        const int64_t ih = s.ih0 + khd, iw = s.iw0 + kwd;
        float* o = out + s.col;
        const int64_t len = s.len;
        if (uint64_t(ih) < uint64_t(H) && iw >= 0 && iw + (len - 1) * sw < W) {
          const float* row = plane + ih * W + iw;
          if (sw == 1) {
            if (len == NR) std::memcpy(o, row, NR * sizeof(float));
            else copy_run(o, row, len);
          } else if (sw == 2) {
            copy_run_stride2(o, row, len);
          } else {
            for (int64_t t = 0; t < len; ++t) o[t] = row[t * sw];
          }
        } else {
          const int64_t mih = map_index(ih, H, mode);
          if (mih < 0) {
            zero_run(o, len);
#if defined(SIMDCONV_HAVE_COPY_RUN_CLIPPED)
          } else if (mode == PadMode::Zeros && sw == 1) {
            const int64_t t_lo = std::min(len, std::max<int64_t>(0, -iw));
            const int64_t t_hi = std::max(t_lo, std::min(len, W - iw));
            copy_clipped_or_zero(o, plane + mih * W, iw, len, t_lo, t_hi);
#endif
          } else {
            // In-range middle [t_lo, t_hi) copied; only the overhang is mapped.
            const float* row = plane + mih * W;
            const int64_t t_lo = std::min(len, iw >= 0 ? int64_t(0) : (-iw + sw - 1) / sw);
            const int64_t t_hi = std::max(t_lo, std::min(len, W - 1 - iw < 0 ? int64_t(0) : (W - 1 - iw) / sw + 1));
            for (int64_t t = 0; t < t_lo; ++t) {
              const int64_t miw = map_index(iw + t * sw, W, mode);
              o[t] = miw < 0 ? 0.0f : row[miw];
            }
            if (t_hi > t_lo) {
              const float* r0 = row + iw + t_lo * sw;
              if (sw == 1) copy_run(o + t_lo, r0, t_hi - t_lo);
              else if (sw == 2) copy_run_stride2(o + t_lo, r0, t_hi - t_lo);
              else for (int64_t t = t_lo; t < t_hi; ++t) o[t] = row[iw + t * sw];
            }
            for (int64_t t = t_hi; t < len; ++t) {
              const int64_t miw = map_index(iw + t * sw, W, mode);
              o[t] = miw < 0 ? 0.0f : row[miw];
            }
          }
        }
      }
    }
    if (last_cols < NR) {
      float* out = out_k + (panels - 1) * panel_stride;
      zero_run(out + last_cols, NR - last_cols);
    }
  }
}

}  // namespace
}  // namespace simdconv
