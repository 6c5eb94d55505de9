#include <algorithm>

#include "simdconv/pack.h"

namespace simdconv {

PackedWeights::PackedWeights(const LayerParams& p, const float* weight, size_t mr, size_t kc)
    : mr_(mr), kc_(kc) {
  const int64_t m = p.out_per_group();
  k_ = p.reduction();
  m_pad_ = (m + int64_t(mr) - 1) / int64_t(mr) * int64_t(mr);
  data_.assign(size_t(p.groups * m_pad_ * k_), 0.0f);
  for (int64_t g = 0; g < p.groups; ++g)
    for (int64_t k0 = 0; k0 < k_; k0 += int64_t(kc)) {
      const int64_t kc_len = std::min<int64_t>(int64_t(kc), k_ - k0);
      for (int64_t mp = 0; mp * int64_t(mr) < m; ++mp) {
        float* dst = const_cast<float*>(panel(g, k0, mp, kc_len));
        for (int64_t i = 0; i < int64_t(mr); ++i) {
          const int64_t row = mp * int64_t(mr) + i;
          if (row >= m) break;
          const float* src = weight + (g * m + row) * k_ + k0;
          for (int64_t k = 0; k < kc_len; ++k) dst[k * int64_t(mr) + i] = src[k];
        }
      }
    }
}

}  // namespace simdconv
