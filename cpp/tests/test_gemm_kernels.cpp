// Every GEMM microkernel this CPU can run, against a plain double-precision
// product, over the edge cases of its contract: K of 1 and odd lengths, every
// partial tile (mr < MR, nr < NR), accumulate on/off, bias on/off. Elements
// outside the tile must stay untouched.
#include "check.h"
#include "simdconv/gemm_kernel.h"

using namespace simdconv;

int main() {
  std::mt19937 rng(1234);
  const GemmKernel* kernels[8];
  const int nk = runnable_gemm_kernels(kernels, 8);
  CHECK(nk >= 1 && kernels[0]->isa == Isa::Scalar, "the scalar kernel must always run");
  for (int ki = 0; ki < nk; ++ki) {
    const GemmKernel& K = *kernels[ki];
    std::printf("kernel %s (MR=%zu NR=%zu KC=%zu NC=%zu)\n", K.name, K.mr, K.nr, K.kc, K.nc);
    CHECK(K.nc % K.nr == 0, "%s: nc must be a multiple of nr", K.name);
    const size_t kcs[] = {1, 2, 3, 7, 16, 31, 64, 257};
    for (size_t kc : kcs)
      for (size_t mr = 1; mr <= K.mr; ++mr)
        for (size_t nr = 1; nr <= K.nr; ++nr)
          for (int mode = 0; mode < 4; ++mode) {
            const bool accumulate = mode & 1, with_bias = mode & 2;
            const auto a = test::random_vector(kc * K.mr, rng);
            const auto b = test::random_vector(kc * K.nr, rng);
            const auto bias = test::random_vector(K.mr, rng);
            const size_t ldc = K.nr + 5;
            const size_t rows = K.mr + 1;
            auto c = test::random_vector(rows * ldc, rng);
            const auto c0 = c;
            K.fn(kc, a.data(), b.data(), c.data(), ldc, mr, nr, accumulate,
                 with_bias ? bias.data() : nullptr);
            for (size_t i = 0; i < rows; ++i)
              for (size_t j = 0; j < ldc; ++j) {
                const float got = c[i * ldc + j];
                if (i >= mr || j >= nr) {
                  CHECK(got == c0[i * ldc + j], "%s kc=%zu mr=%zu nr=%zu: wrote outside the tile at (%zu,%zu)",
                        K.name, kc, mr, nr, i, j);
                  continue;
                }
                double want = accumulate ? c0[i * ldc + j] : 0.0, mag = std::fabs(want);
                for (size_t k = 0; k < kc; ++k) {
                  want += double(a[k * K.mr + i]) * b[k * K.nr + j];
                  mag += std::fabs(double(a[k * K.mr + i]) * b[k * K.nr + j]);
                }
                if (with_bias) { want += bias[i]; mag += std::fabs(bias[i]); }
                CHECK(test::close(got, float(want), double(kc + 2), mag),
                      "%s kc=%zu mr=%zu nr=%zu acc=%d bias=%d (%zu,%zu): got %.9g want %.9g", K.name,
                      kc, mr, nr, int(accumulate), int(with_bias), i, j, got, want);
              }
          }
  }
  return test::finish("test_gemm_kernels");
}
