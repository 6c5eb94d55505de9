// Portable GEMM microkernel: the fallback on any CPU and the baseline every
// SIMD kernel is tested against. Plain C++, no intrinsics.
#include "simdconv/gemm_kernel.h"
#include "im2col-pack-inl.h"

namespace simdconv {
namespace {

constexpr size_t MR = 4, NR = 8;

void gemm_4x8_scalar(size_t kc, const float* a, const float* b, float* c, size_t ldc,
                     size_t mr, size_t nr, bool accumulate, const float* bias) {
  float acc[MR][NR] = {};
  for (size_t k = 0; k < kc; ++k, a += MR, b += NR)
    for (size_t i = 0; i < MR; ++i)
      for (size_t j = 0; j < NR; ++j) acc[i][j] += a[i] * b[j];
  for (size_t i = 0; i < mr; ++i) {
    float* row = c + i * ldc;
    const float bi = bias ? bias[i] : 0.0f;
    for (size_t j = 0; j < nr; ++j) {
      float v = acc[i][j];
      if (accumulate) v += row[j];
      if (bias) v += bi;
      row[j] = v;
    }
  }
}

void pack_scalar(const LayerParams& p, const Im2colSource& src, int64_t k0, int64_t kc_len,
                 int64_t p0, int64_t np, int64_t panel_stride, float* dst) {
  pack_im2col_impl<int(NR)>(p, src, k0, kc_len, p0, np, panel_stride, dst);
}

}  // namespace

const GemmKernel kGemmScalar = {Isa::Scalar, "f32-gemm-4x8-scalar", MR, NR, 256, 128,
                                gemm_4x8_scalar, pack_scalar};

}  // namespace simdconv
