#include "simdconv/reference_conv.h"

#include <algorithm>
#include <vector>

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

void reference_conv_transpose2d(const LayerParams& p, const CallShape& s, const float* input,
                                const float* weight, const float* bias, float* output) {
  const OutputSize o = output_size(p, s);
  const int64_t cin_g = p.in_per_group(), cout_g = p.out_per_group();
  const int64_t plane = o.height * o.width;
  std::vector<double> acc(size_t(p.out_channels * plane));
  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t oc = 0; oc < p.out_channels; ++oc)
      std::fill(acc.begin() + oc * plane, acc.begin() + (oc + 1) * plane, bias ? double(bias[oc]) : 0.0);
    for (int64_t ci = 0; ci < p.in_channels; ++ci) {
      const int64_t g = ci / cin_g;
      for (int64_t ih = 0; ih < s.height; ++ih)
        for (int64_t iw = 0; iw < s.width; ++iw) {
          const double x = input[((n * p.in_channels + ci) * s.height + ih) * s.width + iw];
          for (int64_t j = 0; j < cout_g; ++j)
            for (int64_t kh = 0; kh < p.kernel_h; ++kh) {
              const int64_t oh = ih * p.stride_h - p.pad_top + kh * p.dilation_h;
              if (oh < 0 || oh >= o.height) continue;
              for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
                const int64_t ow = iw * p.stride_w - p.pad_left + kw * p.dilation_w;
                if (ow < 0 || ow >= o.width) continue;
                acc[size_t((g * cout_g + j) * plane + oh * o.width + ow)] +=
                    x * double(weight[((ci * cout_g + j) * p.kernel_h + kh) * p.kernel_w + kw]);
              }
            }
        }
    }
    for (int64_t e = 0; e < p.out_channels * plane; ++e)
      output[n * p.out_channels * plane + e] = float(acc[size_t(e)]);
  }
}

}  // namespace simdconv
