// The fused epilogue as every driver applies it (drivers.h): y = act(y + r)
// on a region a task has just finished, while it is still in cache, through
// the ISA's ActivationKernel. One helper for all drivers, so that every
// algorithm feeds the kernel the same way.
#include <algorithm>

#include "drivers.h"

namespace simdconv {
namespace drivers {

void apply_epilogue(const Call& c, float* y, int64_t rows, int64_t cols, int64_t row_stride,
                    int64_t col_step) {
  if (rows <= 0 || cols <= 0) return;
  const Activation& a = c.ep.act;
  const ActivationFn apply = c.act->apply;
  // The residual has the output's layout: the same offset from its start.
  const float* r = c.ep.residual != nullptr ? c.ep.residual + (y - c.output) : nullptr;
  if (col_step == 1) {
    if (row_stride == cols) {  // one contiguous run
      apply(a, y, r, size_t(rows * cols));
      return;
    }
    for (int64_t i = 0; i < rows; ++i)
      apply(a, y + i * row_stride, r != nullptr ? r + i * row_stride : nullptr, size_t(cols));
    return;
  }
  // Strided columns (a dilated Winograd phase writes every d-th column):
  // gather a chunk, apply, scatter back. The kernel computes each element
  // alone, so where an element sits in a chunk does not change its value.
  constexpr int64_t kChunk = 64;
  float yb[kChunk], rb[kChunk];
  for (int64_t i = 0; i < rows; ++i) {
    float* yr = y + i * row_stride;
    const float* rr = r != nullptr ? r + i * row_stride : nullptr;
    for (int64_t j0 = 0; j0 < cols; j0 += kChunk) {
      const int64_t n = std::min(kChunk, cols - j0);
      for (int64_t j = 0; j < n; ++j) yb[j] = yr[(j0 + j) * col_step];
      if (rr != nullptr)
        for (int64_t j = 0; j < n; ++j) rb[j] = rr[(j0 + j) * col_step];
      apply(a, yb, rr != nullptr ? rb : nullptr, size_t(n));
      for (int64_t j = 0; j < n; ++j) yr[(j0 + j) * col_step] = yb[j];
    }
  }
}

}  // namespace drivers
}  // namespace simdconv
