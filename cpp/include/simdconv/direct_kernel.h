// The direct-convolution microkernel contract (depthwise and small-group
// layers), one per ISA like the GEMM kernels.
//
// The caller copies the input rows a band of output rows needs into a padded,
// phase-split buffer (padding modes resolved there): per input channel of the
// group, rows of the padded input, each row stored as stride_w phases of wq
// floats (padded column x at phase x % stride_w, index x / stride_w), so every
// kernel tap reads a contiguous run of input for a run of output columns.
// Output (oh, ow) of output channel o then is
//   bias[o] + sum_t w[o*taps + t] * in[oh*row_step + tap_off[t] + ow]
// accumulated in t order by one FMA chain per element (thread-count and
// tile-position independent). Vector loads may read up to kDirectSlack
// floats past the last element of the buffer; the caller provides them.
#pragma once
#include <cstdint>
#include "simdconv/conv_params.h"
#include "simdconv/isa.h"

namespace simdconv {

constexpr int64_t kDirectSlack = 64;

struct DirectArgs {
  const float* in;         // padded, phase-split buffer
  const int64_t* tap_off;  // [taps] offset of tap t from an output row's base, in floats
  int64_t taps;
  int64_t row_step;        // floats between the bases of consecutive output rows
  const float* w;          // [n_out][taps]
  const float* bias;       // [n_out] or nullptr
  float* out;              // output (0, 0) of the first output channel
  int64_t out_stride;      // floats between output channel planes
  int64_t out_row_stride;  // floats between output rows
  int64_t n_out, out_h, out_w;
  // Optional, for one input channel (taps == kernel_h * kernel_w, in (kh, kw)
  // order): tap (kh, kw) is at kh * kh_step + tap_off[kw]. When kh_step ==
  // row_step (stride_h == dilation_h) neighbouring output rows share input
  // rows and a kernel may load each once for several rows. 0: unknown.
  int64_t kernel_h = 0, kernel_w = 0, kh_step = 0;
  // Optional (dense path): when > 0, stride 1 in both directions, and
  // row_step >= out_w, output (oh, ow) is flat position oh * row_step + ow of
  // one long row of flat_n = (out_h - 1) * row_step + out_w positions; a
  // kernel may compute that row in full vectors and drop the positions whose
  // column is >= out_w (each kept element is summed exactly as above).
  int64_t flat_n = 0;
};

// Fills `rows` rows of one channel's padded, phase-split buffer: buffer row
// r is padded input row y0 + r (input row y0 + r - pad_top mapped by mode;
// outside a zero-padded input it is all zeros). A padded row is
// pad_left + w + pad_right floats, split into `stride` phases of wq floats;
// rows are row_stride (= stride * wq) apart at dst.
struct PadPlaneArgs {
  const float* plane;  // the input channel, [h, w]
  int64_t h, w, y0, rows, pad_top, pad_left, pad_right, stride, wq;
  PadMode mode;
  float* dst;
  // Buffer row r is padded row y0 + r * y_step (Winograd on dilated layers
  // pads every dilation-th row); 1 for the direct kernels.
  int64_t y_step = 1;
};

// Depthwise k x k (k = 3 or 5), stride s (1 or 2) in both directions,
// dilation 1, zero padding of any size, read straight from the input plane
// (no padded copy): output rows [oh0, oh0 + rows) of one output channel.
// Output (oh, ow) reads input (oh*s - pad_top + kh, ow*s - pad_left + kw);
// taps outside the plane read as zeros and are still multiplied, so every
// element is the same FMA chain, bias then the taps in (kh, kw) order, as
// fn() computes from the zero-padded buffer: the results are bitwise equal,
// whatever the rows and the tiling. No read falls outside the plane.
struct DwInPlaceArgs {
  const float* plane;  // the input channel, [h, w]
  int64_t h, w, pad_top, pad_left;
  const float* weights;  // this channel's k x k weights
  const float* bias;     // this channel's bias, or nullptr
  float* out;            // output row 0 of this channel
  int64_t out_w, oh0, rows;
};
using DwInPlaceFn = void (*)(const DwInPlaceArgs& a);

struct DirectKernel {
  Isa isa;
  const char* name;  // e.g. "f32-direct-avx512"
  void (*fn)(const DirectArgs& a);
  void (*pad_plane)(const PadPlaneArgs& a);
  // The in-place depthwise kernels (DwInPlaceArgs), one per kernel size and
  // stride; nullptr where the ISA has none (the layer then takes the padded
  // copy and fn).
  DwInPlaceFn dw3s1 = nullptr, dw3s2 = nullptr, dw5s1 = nullptr, dw5s2 = nullptr;
};

// The in-place depthwise kernel of K for a k x k kernel at stride s, or
// nullptr when it has none.
inline DwInPlaceFn dw_in_place_kernel(const DirectKernel& K, int64_t k, int64_t s) {
  if (k == 3) return s == 1 ? K.dw3s1 : s == 2 ? K.dw3s2 : nullptr;
  if (k == 5) return s == 1 ? K.dw5s1 : s == 2 ? K.dw5s2 : nullptr;
  return nullptr;
}

// kernels_for(isa)->direct (kernels.h), or nullptr if the ISA is not compiled in.
const DirectKernel* direct_kernel_for(Isa isa);
// All direct kernels compiled in that this CPU can run, scalar first (for tests).
int runnable_direct_kernels(const DirectKernel** out, int max);

extern const DirectKernel kDirectScalar;
#if defined(SIMDCONV_HAVE_AVX2)
extern const DirectKernel kDirectAvx2;
#endif
#if defined(SIMDCONV_HAVE_AVX512)
extern const DirectKernel kDirectAvx512;
#endif
#if defined(SIMDCONV_HAVE_NEON)
extern const DirectKernel kDirectNeon;
#endif

}  // namespace simdconv
