// Rounding error of every algorithm that can run a layer, against the
// float64 reference, in units of eps32 * sum_k |x_k * w_k| of each output
// element (max and mean over the output). Not a test: it reports the numbers
// quoted in README.md ("Algorithms") for Winograd, the GEMM and the direct
// kernel. Data: uniform(-1, 1), fixed seed; active ISA (SIMDCONV_MAX_ISA caps it).
// Usage: algo_error
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "simdconv/conv_layer.h"
#include "simdconv/reference_conv.h"

using namespace simdconv;

int main() {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> d(-1, 1);
  struct Layer {
    int64_t C, M, H, W, pad, dil;
    PadMode mode;
  };
  const Layer layers[] = {{64, 64, 28, 28, 1, 1, PadMode::Zeros},
                          {256, 256, 14, 14, 1, 1, PadMode::Zeros},
                          {32, 48, 17, 19, 1, 1, PadMode::Reflect},
                          {64, 64, 20, 20, 2, 2, PadMode::Zeros}};
  std::printf("isa=%s; error in eps32 * sum|x*w| units\n", isa_name(active_isa()));
  for (const Layer& l : layers) {
    LayerParams p;
    p.in_channels = l.C; p.out_channels = l.M;
    p.kernel_h = p.kernel_w = 3;
    p.dilation_h = p.dilation_w = l.dil;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = l.pad;
    p.pad_mode = l.mode;
    const CallShape s{1, l.H, l.W};
    const OutputSize o = output_size(p, s);
    std::vector<float> x(size_t(l.C * l.H * l.W)), w(size_t(p.weight_elements())), b(size_t(l.M));
    for (auto& v : x) v = d(rng);
    for (auto& v : w) v = d(rng);
    for (auto& v : b) v = d(rng);
    const size_t n = size_t(l.M * o.height * o.width);
    std::vector<float> ref(n), bound(n);
    reference_conv2d(p, s, x.data(), w.data(), b.data(), ref.data());
    // sum |x*w| + |b|: the reference on the absolute values
    auto ax = x, aw = w, ab = b;
    for (auto* v : {&ax, &aw, &ab})
      for (auto& e : *v) e = std::fabs(e);
    reference_conv2d(p, s, ax.data(), aw.data(), ab.data(), bound.data());
    for (Algorithm a : {Algorithm::Gemm, Algorithm::Direct, Algorithm::Winograd}) {
      if (a == Algorithm::Winograd && !winograd_applies(p, active_isa())) continue;
      const ConvLayer layer(p, w.data(), b.data(), active_isa(), a);
      std::vector<float> y(n);
      layer.forward(s, x.data(), y.data());
      double mx = 0, mean = 0;
      for (size_t i = 0; i < n; ++i) {
        const double e = std::fabs(double(y[i]) - double(ref[i])) / (std::ldexp(1.0, -23) * bound[i]);
        mx = std::max(mx, e);
        mean += e;
      }
      std::printf("C=%-3lld M=%-3lld %lldx%lld dil %lld %-8s %-14s max %.3f mean %.4f\n", (long long)l.C,
                  (long long)l.M, (long long)l.H, (long long)l.W, (long long)l.dil,
                  pad_mode_name(l.mode), algorithm_name(a), mx, mean / double(n));
    }
  }
  return 0;
}
