// Every GEMM microkernel this CPU can run, against a plain double-precision
// product, over the edge cases of its contract: K of 1 and odd lengths, every
// partial tile (mr < MR, nr < NR), accumulate on/off, bias on/off. Elements
// outside the tile must stay untouched.
#include <algorithm>
#include <cstring>

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
  // The narrow-tile kernels: every panel count and row count, every width up
  // to tail_nr, and bitwise equal to the microkernel on the same tile (the
  // layer may run either on a tile, whatever the thread count).
  for (int ki = 0; ki < nk; ++ki) {
    const GemmKernel& K = *kernels[ki];
    if (K.tail == nullptr) continue;
    std::printf("tail kernel of %s (nr <= %zu, %zu panels)\n", K.name, K.tail_nr, K.tail_panels);
    const size_t kcs[] = {1, 3, 17, 256};
    for (size_t kc : kcs)
      for (size_t panels = 1; panels <= K.tail_panels; ++panels)
        for (size_t rows = (panels - 1) * K.mr + 1; rows <= panels * K.mr; ++rows)
          for (size_t nr = 1; nr <= K.tail_nr; ++nr)
            for (int mode = 0; mode < 4; ++mode) {
              const bool accumulate = mode & 1, with_bias = mode & 2;
              const size_t a_stride = kc * K.mr + 8;
              auto a = test::random_vector(a_stride * K.tail_panels, rng);
              for (size_t pnl = 0; pnl < panels; ++pnl)  // rows past `rows` are zero, as packed
                for (size_t k = 0; k < kc; ++k)
                  for (size_t i = 0; i < K.mr; ++i)
                    if (pnl * K.mr + i >= rows) a[pnl * a_stride + k * K.mr + i] = 0.0f;
              const auto b = test::random_vector(kc * K.nr, rng);
              const auto bias = test::random_vector(panels * K.mr, rng);
              const size_t ldc = K.nr + 3, crows = panels * K.mr + 1;
              auto c = test::random_vector(crows * ldc, rng);
              auto c_ref = c;
              const auto c0 = c;
              K.tail(kc, a.data(), a_stride, panels, b.data(), c.data(), ldc, rows, nr, accumulate,
                     with_bias ? bias.data() : nullptr);
              for (size_t pnl = 0; pnl < panels; ++pnl) {
                const size_t m = pnl * K.mr;
                K.fn(kc, a.data() + pnl * a_stride, b.data(), c_ref.data() + m * ldc, ldc,
                     std::min(K.mr, rows - m), nr, accumulate, with_bias ? bias.data() + m : nullptr);
              }
              for (size_t i = 0; i < crows; ++i)
                for (size_t j = 0; j < ldc; ++j) {
                  const float got = c[i * ldc + j];
                  if (i >= rows || j >= nr) {
                    CHECK(got == c0[i * ldc + j], "%s tail kc=%zu rows=%zu nr=%zu: wrote outside at (%zu,%zu)",
                          K.name, kc, rows, nr, i, j);
                    continue;
                  }
                  CHECK(std::memcmp(&got, &c_ref[i * ldc + j], 4) == 0,
                        "%s tail kc=%zu panels=%zu rows=%zu nr=%zu acc=%d bias=%d (%zu,%zu): %.9g vs microkernel %.9g",
                        K.name, kc, panels, rows, nr, int(accumulate), int(with_bias), i, j, got,
                        c_ref[i * ldc + j]);
                }
            }
  }
  // The in-place B kernels (B read from a strided matrix, not a packed
  // panel): bitwise equal to the microkernel on the same tile packed, for
  // every partial tile. B is allocated to its last used element, so a read
  // past column nr of the last row runs off the buffer (ASan build).
  for (int ki = 0; ki < nk; ++ki) {
    const GemmKernel& K = *kernels[ki];
    if (K.fn_ldb == nullptr) continue;
    std::printf("in-place B kernel of %s (K sub-block %zu)\n", K.name, K.kc_ldb);
    CHECK(K.kc_ldb > 0 && K.kc % K.kc_ldb == 0, "%s: kc_ldb must divide kc", K.name);
    const size_t kcs[] = {1, 2, 7, 64, 257};
    for (size_t kc : kcs)
      for (size_t mr = 1; mr <= K.mr; ++mr)
        for (size_t nr = 1; nr <= K.nr; ++nr)
          for (int mode = 0; mode < 4; ++mode) {
            const bool accumulate = mode & 1, with_bias = mode & 2;
            const size_t ldb = K.nr + 3 + (mode & 1) * 40;
            const auto a = test::random_vector(kc * K.mr, rng);
            const auto b = test::random_vector((kc - 1) * ldb + nr, rng);
            std::vector<float> packed(kc * K.nr, 0.0f);
            for (size_t k = 0; k < kc; ++k)
              for (size_t j = 0; j < nr; ++j) packed[k * K.nr + j] = b[k * ldb + j];
            const auto bias = test::random_vector(K.mr, rng);
            const size_t ldc = K.nr + 5, rows = K.mr + 1;
            auto c = test::random_vector(rows * ldc, rng);
            auto c_ref = c;
            K.fn_ldb(kc, a.data(), b.data(), ldb, c.data(), ldc, mr, nr, accumulate,
                     with_bias ? bias.data() : nullptr);
            K.fn(kc, a.data(), packed.data(), c_ref.data(), ldc, mr, nr, accumulate,
                 with_bias ? bias.data() : nullptr);
            CHECK(std::memcmp(c.data(), c_ref.data(), c.size() * 4) == 0,
                  "%s in-place B kc=%zu mr=%zu nr=%zu acc=%d bias=%d: differs from the packed kernel",
                  K.name, kc, mr, nr, int(accumulate), int(with_bias));
          }
  }
  return test::finish("test_gemm_kernels");
}
