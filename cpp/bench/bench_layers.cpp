// Benchmarks ConvLayer::forward on the public layer suite (the shapes of
// /work/shared/bench-suite.json, hard-coded) and prints the median GFLOP/s.
//   SIMDCONV_NUM_THREADS  thread count (default: hardware threads)
//   SIMDCONV_MAX_ISA      ISA cap (scalar|avx2|avx512)
//   BENCH_ALGO            force an algorithm: gemm | direct (grouped-direct) | depthwise | winograd
//   BENCH_SHAPE           run one extra case "N,Cin,H,W,Cout,k,stride,pad,dilation,groups"
//                         (square kernel, zero padding), named "custom", instead of the suite
// Usage: bench_layers [min_seconds_per_case=0.5] [case-name-substring]
// Run with GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "simdconv/conv_layer.h"
#include "simdconv/thread_pool.h"

using namespace simdconv;

namespace {

struct Case {
  const char* name;
  int64_t N, Cin, H, W, Cout, kh, kw, sh, sw, ph, pw, dh, dw, groups;
  PadMode mode;
};

const Case kCases[] = {
    {"r50_stem", 1, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3, 1, 1, 1, PadMode::Zeros},
    {"r50_3x3_56", 1, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, PadMode::Zeros},
    {"r50_3x3_14", 1, 256, 14, 14, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, PadMode::Zeros},
    {"r50_1x1_56", 1, 256, 56, 56, 64, 1, 1, 1, 1, 0, 0, 1, 1, 1, PadMode::Zeros},
    {"r50_1x1_s2", 1, 512, 28, 28, 1024, 1, 1, 2, 2, 0, 0, 1, 1, 1, PadMode::Zeros},
    {"mbv2_dw_56", 1, 144, 56, 56, 144, 3, 3, 1, 1, 1, 1, 1, 1, 144, PadMode::Zeros},
    {"mbv2_dw_s2", 1, 96, 112, 112, 96, 3, 3, 2, 2, 1, 1, 1, 1, 96, PadMode::Zeros},
    {"resnext_g32", 1, 128, 28, 28, 128, 3, 3, 1, 1, 1, 1, 1, 1, 32, PadMode::Zeros},
    {"deeplab_dil2", 1, 256, 28, 28, 256, 3, 3, 1, 1, 2, 2, 2, 2, 1, PadMode::Zeros},
    {"restore_reflect", 1, 64, 128, 128, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, PadMode::Reflect},
    {"circular_5x5", 1, 32, 64, 64, 32, 5, 5, 1, 1, 2, 2, 1, 1, 1, PadMode::Circular},
    {"cifar_batch16", 16, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, PadMode::Zeros},
    {"asym_1x7", 1, 128, 17, 17, 128, 1, 7, 1, 1, 0, 3, 1, 1, 1, PadMode::Zeros},
    {"batch8_3x3", 8, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, PadMode::Zeros},
};

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  const double min_seconds = argc > 1 ? std::atof(argv[1]) : 0.5;
  const char* filter = argc > 2 ? argv[2] : nullptr;
  std::printf("isa=%s threads=%d\n", isa_name(active_isa()), get_num_threads());
  std::printf("%-16s %-18s %9s %9s %9s %6s\n", "case", "algorithm", "median", "best", "ms(med)", "reps");
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<Case> cases(std::begin(kCases), std::end(kCases));
  if (const char* shape = std::getenv("BENCH_SHAPE")) {
    long v[10];
    if (std::sscanf(shape, "%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld", &v[0], &v[1], &v[2], &v[3],
                    &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) != 10) {
      std::fprintf(stderr, "BENCH_SHAPE: want N,Cin,H,W,Cout,k,stride,pad,dilation,groups\n");
      return 2;
    }
    cases.assign(1, Case{"custom", v[0], v[1], v[2], v[3], v[4], v[5], v[5], v[6], v[6], v[7],
                         v[7], v[8], v[8], v[9], PadMode::Zeros});
  }
  for (const Case& c : cases) {
    if (filter && !std::strstr(c.name, filter)) continue;
    LayerParams p;
    p.in_channels = c.Cin; p.out_channels = c.Cout;
    p.kernel_h = c.kh; p.kernel_w = c.kw;
    p.stride_h = c.sh; p.stride_w = c.sw;
    p.pad_top = p.pad_bottom = c.ph; p.pad_left = p.pad_right = c.pw;
    p.dilation_h = c.dh; p.dilation_w = c.dw;
    p.groups = c.groups; p.pad_mode = c.mode;
    const CallShape s{c.N, c.H, c.W};
    const OutputSize o = output_size(p, s);
    std::vector<float> x(size_t(c.N * c.Cin * c.H * c.W)), w(size_t(p.weight_elements())),
        b(size_t(c.Cout)), y(size_t(c.N * c.Cout * o.height * o.width));
    for (auto& v : x) v = d(rng);
    for (auto& v : w) v = d(rng);
    for (auto& v : b) v = d(rng);
    Algorithm algo = choose_algorithm(p);
    if (const char* f = std::getenv("BENCH_ALGO")) {
      if (!std::strcmp(f, "gemm")) algo = Algorithm::Gemm;
      else if (!std::strcmp(f, "direct")) algo = p.groups > 1 ? Algorithm::GroupedDirect : Algorithm::Direct;
      else if (!std::strcmp(f, "depthwise") && p.in_per_group() == 1) algo = Algorithm::Depthwise;
      else if (!std::strcmp(f, "winograd") && winograd_applies(p, active_isa())) algo = Algorithm::Winograd;
    }
    const ConvLayer layer(p, w.data(), b.data(), active_isa(), algo);
    const double flops = 2.0 * double(c.N * c.Cout * o.height * o.width) * double(p.reduction());
    layer.forward(s, x.data(), y.data());  // warm-up (scratch, pool, caches)
    layer.forward(s, x.data(), y.data());
    std::vector<double> times;
    const double start = now();
    while ((now() - start < min_seconds || times.size() < 5) && times.size() < 10000) {
      const double t0 = now();
      layer.forward(s, x.data(), y.data());
      times.push_back(now() - t0);
    }
    std::sort(times.begin(), times.end());
    const double med = times[times.size() / 2], best = times.front();
    std::printf("%-16s %-18s %9.2f %9.2f %9.3f %6zu\n", c.name, algorithm_name(layer.algorithm()),
                flops / med * 1e-9, flops / best * 1e-9, med * 1e3, times.size());
    std::fflush(stdout);
  }
  return 0;
}
