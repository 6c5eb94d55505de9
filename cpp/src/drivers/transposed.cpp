// The transposed driver (ConvTranspose2d): each task owns rows [oh0, oh0 +
// oh_n) of one output channel plane of one image and gathers, for every
// element, the taps whose input position lands on it: output row oh reads
// kernel row kh where (oh + pad_top - kh*dilation) is a non-negative
// multiple of the stride below H*stride. No zero-stuffed input and no
// scratch; work is the output times the taps that reach it. Each sum runs
// in one fixed order (bias, then input channel, kh, kw), so results are
// bitwise the same at every thread count.
#include <algorithm>

#include "drivers.h"
#include "simdconv/thread_pool.h"

namespace simdconv {
namespace drivers {
namespace {

// The input index a kernel tap reads for output position o, or -1 when the
// tap falls between input positions or outside the input.
inline int64_t source_index(int64_t o, int64_t pad, int64_t k, int64_t dil, int64_t stride, int64_t n) {
  const int64_t t = o + pad - k * dil;
  if (t < 0 || t % stride != 0) return -1;
  const int64_t i = t / stride;
  return i < n ? i : -1;
}

}  // namespace

void run_transposed(const Plan& plan, const Call& c, const float* weight) {
  const LayerParams& p = c.p;
  const int64_t H = plan.shape.height, W = plan.shape.width, HW = H * W;
  const int64_t OH = plan.out.height, OW = plan.out.width;
  const int64_t cin_g = p.in_per_group(), cout_g = p.out_per_group();
  const int64_t KH = p.kernel_h, KW = p.kernel_w, KK = KH * KW;

  count_tasks(plan.tasks);
  parallel_for(size_t(plan.tasks), [&](size_t t) {
    check_cancel(c.cancel);
    const TransposedTask k = transposed_task(plan, p, int64_t(t));
    const int64_t g = k.oc / cout_g, j = k.oc % cout_g;
    const float* in = c.input + (k.n * p.in_channels + g * cin_g) * HW;
    // weight[ci][j][kh][kw] for the group's input channels ci
    const float* w = weight + (g * cin_g * cout_g + j) * KK;
    const float b = c.bias ? c.bias[k.oc] : 0.0f;
    float* out = c.output + (k.n * p.out_channels + k.oc) * OH * OW;
    for (int64_t oh = k.oh0; oh < k.oh0 + k.oh_n; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        float acc = b;
        for (int64_t ci = 0; ci < cin_g; ++ci) {
          const float* plane = in + ci * HW;
          const float* wc = w + ci * cout_g * KK;
          for (int64_t kh = 0; kh < KH; ++kh) {
            const int64_t ih = source_index(oh, p.pad_top, kh, p.dilation_h, p.stride_h, H);
            if (ih < 0) continue;
            for (int64_t kw = 0; kw < KW; ++kw) {
              const int64_t iw = source_index(ow, p.pad_left, kw, p.dilation_w, p.stride_w, W);
              if (iw < 0) continue;
              acc += plane[ih * W + iw] * wc[kh * KW + kw];
            }
          }
        }
        out[oh * OW + ow] = acc;
      }
    if (c.ep.active()) apply_epilogue(c, out + k.oh0 * OW, k.oh_n, OW, OW);
  });
}

}  // namespace drivers
}  // namespace simdconv
