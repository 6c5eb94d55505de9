// Packing: weights into MR-row A panels once per layer, input into NR-column B
// panels per call straight from NCHW (implicit im2col: the full im2col matrix
// is never built; all four padding modes are resolved while reading).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>
#include "simdconv/conv_params.h"

namespace simdconv {

// Weights of every group as GEMM A operand [M = Cout/groups, K = reduction()],
// split into K blocks of depth kc and, inside each, MR-row micro-panels
// (kc x MR, k-major, rows past M zero).
class PackedWeights {
 public:
  PackedWeights() = default;
  PackedWeights(const LayerParams& p, const float* weight, size_t mr, size_t kc);
  const float* panel(int64_t group, int64_t k0, int64_t m_panel, int64_t kc_len) const {
    return data_.data() + group * m_pad_ * k_ + k0 * m_pad_ + m_panel * int64_t(mr_) * kc_len;
  }
  size_t mr() const { return mr_; }
  size_t kc() const { return kc_; }

 private:
  std::vector<float> data_;
  size_t mr_ = 0, kc_ = 0;
  int64_t m_pad_ = 0, k_ = 0;
};

// Where one packed B block reads from: one image's channels of one group.
struct Im2colSource {
  const float* input;  // first channel of the group in this image, [C/groups, H, W]
  int64_t height, width, out_width;
};

// The B layout every GEMM kernel's pack (GemmKernel::pack) writes: rows
// [k0, k0+kc_len) of the implicit im2col matrix for output pixels [p0, p0+np)
// as ceil(np/NR) micro-panels of kc_len x NR, row k of a panel holding its NR
// pixels; columns past np are zero.

}  // namespace simdconv
