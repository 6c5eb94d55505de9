// Test support: a layer with square stride, padding and dilation, as the
// cpp/ suites write their cases.
#pragma once
#include <cstdint>

#include "simdconv/conv_params.h"

namespace test {

inline simdconv::LayerParams layer(int64_t cin, int64_t cout, int64_t kh, int64_t kw, int64_t stride,
                                   int64_t pad, int64_t dil, int64_t groups,
                                   simdconv::PadMode mode = simdconv::PadMode::Zeros) {
  simdconv::LayerParams p;
  p.in_channels = cin;
  p.out_channels = cout;
  p.kernel_h = kh;
  p.kernel_w = kw;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pad;
  p.dilation_h = p.dilation_w = dil;
  p.groups = groups;
  p.pad_mode = mode;
  return p;
}

}  // namespace test
