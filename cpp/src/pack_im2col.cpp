#include <algorithm>
#include <cstring>

#include "simdconv/pack.h"
#include "kernels/im2col-pack-inl.h"

namespace simdconv {
namespace {

// For each B row (one input channel and kernel tap) the packed columns are
// output pixels. Pixels of one output row read one input row, so a run of
// them inside a micro-panel is a contiguous copy when the stride is 1 and the
// taps fall inside the input; only border pixels go through map_index().
void pack_im2col_generic(const LayerParams& p, const Im2colSource& src, int64_t k0, int64_t kc_len,
                         int64_t p0, int64_t np, size_t nr_, float* dst) {
  const int64_t nr = int64_t(nr_);
  const int64_t H = src.height, W = src.width, Wout = src.out_width;
  const int64_t taps = p.kernel_h * p.kernel_w;
  const int64_t panels = (np + nr - 1) / nr;
  for (int64_t j = 0; j < panels; ++j) {
    float* panel = dst + j * kc_len * nr;
    const int64_t q0 = p0 + j * nr;                 // first pixel of the panel
    const int64_t cols = std::min(nr, p0 + np - q0);
    for (int64_t kk = 0; kk < kc_len; ++kk) {
      const int64_t k = k0 + kk;
      const int64_t ci = k / taps, tap = k % taps;
      const int64_t kh = tap / p.kernel_w, kw = tap % p.kernel_w;
      const float* plane = src.input + ci * H * W;
      float* out = panel + kk * nr;
      int64_t c = 0;
      while (c < cols) {
        const int64_t q = q0 + c;
        const int64_t oh = q / Wout, ow0 = q % Wout;
        const int64_t run = std::min(cols - c, Wout - ow0);  // pixels left in this output row
        const int64_t ih = map_index(oh * p.stride_h - p.pad_top + kh * p.dilation_h, H, p.pad_mode);
        float* o = out + c;
        if (ih < 0) {
          std::fill(o, o + run, 0.0f);
        } else {
          const float* row = plane + ih * W;
          const int64_t iw0 = ow0 * p.stride_w - p.pad_left + kw * p.dilation_w;
          const int64_t iw_last = iw0 + (run - 1) * p.stride_w;
          if (iw0 >= 0 && iw_last < W) {
            if (p.stride_w == 1) {
              std::memcpy(o, row + iw0, size_t(run) * sizeof(float));
            } else {
              for (int64_t t = 0; t < run; ++t) o[t] = row[iw0 + t * p.stride_w];
            }
          } else {
            for (int64_t t = 0; t < run; ++t) {
              const int64_t iw = map_index(iw0 + t * p.stride_w, W, p.pad_mode);
              o[t] = iw < 0 ? 0.0f : row[iw];
            }
          }
        }
        c += run;
      }
      if (cols < nr) std::fill(out + cols, out + nr, 0.0f);
    }
  }
}

}  // namespace

void pack_im2col(const LayerParams& p, const Im2colSource& src, int64_t k0, int64_t kc_len,
                 int64_t p0, int64_t np, size_t nr, float* dst) {
  switch (nr) {
    case 8: pack_im2col_impl<8>(p, src, k0, kc_len, p0, np, kc_len * int64_t(nr), dst); return;
    case 16: pack_im2col_impl<16>(p, src, k0, kc_len, p0, np, kc_len * int64_t(nr), dst); return;
    case 32: pack_im2col_impl<32>(p, src, k0, kc_len, p0, np, kc_len * int64_t(nr), dst); return;
    default: pack_im2col_generic(p, src, k0, kc_len, p0, np, nr, dst);
  }
}

}  // namespace simdconv
