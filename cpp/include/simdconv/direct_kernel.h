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
};

// Builds one padded, phase-split row: src is the input row (nullptr: a zero
// row), w its width; pad_left/pad_right columns are mapped by mode; the
// padded row of w + pad_left + pad_right floats is split into `stride`
// phases of wq floats each at dst.
struct PadRowArgs {
  const float* src;
  int64_t w, pad_left, pad_right, stride, wq;
  PadMode mode;
  float* dst;
};

struct DirectKernel {
  Isa isa;
  const char* name;  // e.g. "f32-direct-avx512"
  void (*fn)(const DirectArgs& a);
  void (*pad_row)(const PadRowArgs& a);
};

// The kernel for an ISA (nullptr if not compiled in).
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

}  // namespace simdconv
