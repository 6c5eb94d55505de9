// The oracle: a direct, obviously-correct convolution accumulated in double.
// Every optimised path is tested against it; it is never used for speed.
#pragma once
#include "simdconv/conv_params.h"

namespace simdconv {

// input [N, C, H, W], weight [Cout, C/groups, kH, kW], bias [Cout] or null,
// output [N, Cout, Hout, Wout] (sized by output_size()).
void reference_conv2d(const LayerParams& p, const CallShape& s, const float* input,
                      const float* weight, const float* bias, float* output);

// ConvTranspose2d (p.transposed): input [N, Cin, H, W], weight
// [Cin, Cout/groups, kH, kW], output [N, Cout, Hout, Wout] (output_size()).
// Written as PyTorch defines it, by scattering every input element through
// every tap (a different loop order from the gather the fast path uses).
void reference_conv_transpose2d(const LayerParams& p, const CallShape& s, const float* input,
                                const float* weight, const float* bias, float* output);

}  // namespace simdconv
