#include "simdconv/fma_roof.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace simdconv {

double fma_roof_scalar(long iters);
#if defined(SIMDCONV_HAVE_AVX2)
double fma_roof_avx2(long iters);
#endif
#if defined(SIMDCONV_HAVE_AVX512)
double fma_roof_avx512(long iters);
#endif
#if defined(SIMDCONV_HAVE_NEON)
double fma_roof_neon(long iters);
#endif

FmaRoofFn fma_roof_kernel(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return fma_roof_scalar;
#if defined(SIMDCONV_HAVE_AVX2)
    case Isa::Avx2: return fma_roof_avx2;
#endif
#if defined(SIMDCONV_HAVE_AVX512)
    case Isa::Avx512: return fma_roof_avx512;
#endif
#if defined(SIMDCONV_HAVE_NEON)
    case Isa::Neon: return fma_roof_neon;
#endif
    default: return nullptr;
  }
}

namespace {

// Iterations per thread and run: 12 chains x 8M iterations is 96M vector
// FMAs, about 10-50 ms per run on a core with two FMA pipes, long
// enough that the clock reads and thread start-up are noise.
constexpr long kIters = 8000000;

using Clock = std::chrono::steady_clock;

double run_once(FmaRoofFn fn, int threads) {
  std::vector<double> flops(size_t(threads), 0.0);
  std::vector<Clock::time_point> t0(static_cast<size_t>(threads)), t1(static_cast<size_t>(threads));
  std::atomic<int> ready{0};
  auto body = [&](int i) {
    // start together, so the span measures all threads running at once
    ready.fetch_add(1);
    while (ready.load() < threads) std::this_thread::yield();
    t0[size_t(i)] = Clock::now();
    flops[size_t(i)] = fn(kIters);
    t1[size_t(i)] = Clock::now();
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(body, i);
  body(0);
  for (auto& t : pool) t.join();
  double total = 0;
  Clock::time_point first = t0[0], last = t1[0];
  for (int i = 0; i < threads; ++i) {
    total += flops[size_t(i)];
    first = std::min(first, t0[size_t(i)]);
    last = std::max(last, t1[size_t(i)]);
  }
  const double seconds = std::chrono::duration<double>(last - first).count();
  return seconds > 0 ? total / seconds / 1e9 : 0;
}

}  // namespace

double fma_roof_gflops(Isa isa, int threads, int repeats) {
  if (threads < 1 || threads > 1024)
    throw std::invalid_argument("fmaRoof: threads must be an integer in [1, 1024], got " + std::to_string(threads));
  if (repeats < 1 || repeats > 100)
    throw std::invalid_argument("fmaRoof: repeats must be an integer in [1, 100], got " + std::to_string(repeats));
  const FmaRoofFn fn = fma_roof_kernel(isa);
  if (!fn || !cpu_supports(isa))
    throw std::invalid_argument(std::string("fmaRoof: this CPU or build cannot run isa '") + isa_name(isa) + "'");
  fn(kIters / 10);  // wake the clocks up
  double best = 0;
  for (int r = 0; r < repeats; ++r) best = std::max(best, run_once(fn, threads));
  return best;
}

}  // namespace simdconv
