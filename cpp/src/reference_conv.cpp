#include "simdconv/reference_conv.h"

namespace simdconv {

void reference_conv2d(const LayerParams& p, const CallShape& s, const float* input,
                      const float* weight, const float* bias, float* output) {
  const OutputSize o = output_size(p, s);
  const int64_t cin_g = p.in_per_group(), cout_g = p.out_per_group();
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t oc = 0; oc < p.out_channels; ++oc) {
      const int64_t g = oc / cout_g;
      for (int64_t oh = 0; oh < o.height; ++oh)
        for (int64_t ow = 0; ow < o.width; ++ow) {
          double acc = bias ? double(bias[oc]) : 0.0;
          for (int64_t ci = 0; ci < cin_g; ++ci) {
            const float* plane = input + ((n * p.in_channels) + g * cin_g + ci) * s.height * s.width;
            for (int64_t kh = 0; kh < p.kernel_h; ++kh) {
              const int64_t ih = map_index(oh * p.stride_h - p.pad_top + kh * p.dilation_h,
                                           s.height, p.pad_mode);
              if (ih < 0) continue;
              for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
                const int64_t iw = map_index(ow * p.stride_w - p.pad_left + kw * p.dilation_w,
                                             s.width, p.pad_mode);
                if (iw < 0) continue;
                acc += double(plane[ih * s.width + iw]) *
                       double(weight[((oc * cin_g + ci) * p.kernel_h + kh) * p.kernel_w + kw]);
              }
            }
          }
          output[((n * p.out_channels + oc) * o.height + oh) * o.width + ow] = float(acc);
        }
    }
}

}  // namespace simdconv
