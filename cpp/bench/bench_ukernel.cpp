// Microkernel throughput with L1/L2-resident panels (no packing, no memory
// traffic beyond the C tile): the ceiling the GEMM path can reach.
// Usage: bench_ukernel [kc=256]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "simdconv/gemm_kernel.h"

using namespace simdconv;

int main(int argc, char** argv) {
  const size_t kc = argc > 1 ? size_t(std::atoi(argv[1])) : 256;
  const GemmKernel* ks[8];
  const int n = runnable_gemm_kernels(ks, 8);
  for (int i = 0; i < n; ++i) {
    const GemmKernel& K = *ks[i];
    const size_t panels = 8;  // A panels reused against one B panel, as in the GEMM loop
    std::vector<float> a(kc * K.mr * panels, 0.5f), b(kc * K.nr, 0.25f), c(K.mr * panels * 64, 0.f);
    std::vector<double> rates;
    for (int rep = 0; rep < 15; ++rep) {
      const size_t iters = 20000;
      const auto t0 = std::chrono::steady_clock::now();
      for (size_t it = 0; it < iters; ++it)
        for (size_t p = 0; p < panels; ++p)
          K.fn(kc, a.data() + p * kc * K.mr, b.data(), c.data() + p * K.mr * 64, 64, K.mr, K.nr,
               true, nullptr);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      rates.push_back(2.0 * kc * K.mr * K.nr * panels * iters / s * 1e-9);
    }
    std::sort(rates.begin(), rates.end());
    std::printf("%-24s kc=%zu median %.1f best %.1f GFLOP/s\n", K.name, kc, rates[rates.size() / 2],
                rates.back());
  }
}
