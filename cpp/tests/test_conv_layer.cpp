// The production convolution for every ISA this CPU runs, against the
// reference, over random layers: every padding mode, asymmetric padding,
// stride, dilation, groups (incl. depthwise and multipliers), bias on/off,
// batch > 1, and sizes around the kernels' register tiles and K blocks.
// Also: results are bitwise identical for any thread count, and a set cancel
// flag stops a call.
#include <cstring>
#include <initializer_list>
#include <stdexcept>

#include "check.h"
#include "simdconv/conv_layer.h"
#include "simdconv/direct_kernel.h"
#include "simdconv/reference_conv.h"
#include "simdconv/thread_pool.h"

using namespace simdconv;

namespace {

struct Setup {
  LayerParams p;
  CallShape s;
};

Setup random_setup(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return int64_t(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  for (;;) {
    Setup u;
    LayerParams& p = u.p;
    const int64_t kind = pick(0, 9);
    p.groups = kind < 6 ? 1 : (kind < 8 ? pick(2, 4) : 0);
    if (p.groups == 0) {  // depthwise, optionally with a multiplier
      p.in_channels = pick(1, 20);
      p.groups = p.in_channels;
      p.out_channels = p.in_channels * pick(1, 3);
    } else {
      p.in_channels = p.groups * pick(1, 40);
      p.out_channels = p.groups * pick(1, 40);
    }
    p.kernel_h = pick(1, 5); p.kernel_w = pick(1, 5);
    p.stride_h = pick(1, 3); p.stride_w = pick(1, 3);
    p.dilation_h = pick(1, 2); p.dilation_w = pick(1, 3);
    p.pad_mode = PadMode(pick(0, 3));
    p.pad_top = pick(0, 3); p.pad_bottom = pick(0, 3);
    p.pad_left = pick(0, 3); p.pad_right = pick(0, 3);
    u.s = {pick(1, 3), pick(1, 24), pick(1, 40)};
    try {
      output_size(p, u.s);
      return u;
    } catch (const std::invalid_argument&) {
      // invalid combination (e.g. reflect pad >= size); draw again
    }
  }
}

void compare(const char* what, const Setup& u, Isa isa, std::mt19937& rng, int& compared,
             int forced = -1) {
  const LayerParams& p = u.p;
  const OutputSize o = output_size(p, u.s);
  const auto x = test::random_vector(size_t(u.s.batch * p.in_channels * u.s.height * u.s.width), rng);
  const auto w = test::random_vector(size_t(p.weight_elements()), rng);
  const auto b = test::random_vector(size_t(p.out_channels), rng);
  const bool with_bias = rng() & 1;
  const size_t out_n = size_t(u.s.batch * p.out_channels * o.height * o.width);
  std::vector<float> want(out_n), got(out_n, std::nanf(""));
  reference_conv2d(p, u.s, x.data(), w.data(), with_bias ? b.data() : nullptr, want.data());
  const ConvLayer layer = forced < 0
                             ? ConvLayer(p, w.data(), with_bias ? b.data() : nullptr, isa)
                             : ConvLayer(p, w.data(), with_bias ? b.data() : nullptr, isa, Algorithm(forced));
  layer.forward(u.s, x.data(), got.data());
  // every |x|,|w| <= 1, so a K-term sum has magnitude <= K (+1 for the bias)
  const double k = double(p.reduction());
  for (size_t i = 0; i < out_n; ++i) {
    if (!test::close(got[i], want[i], k + 1, k + 1)) {
      CHECK(false, "%s isa=%s algo=%s: Cin=%lld Cout=%lld g=%lld k=%lldx%lld s=%lldx%lld d=%lldx%lld "
            "pad=t%lld b%lld l%lld r%lld mode=%s N=%lld H=%lld W=%lld: elem %zu got %.9g want %.9g",
            what, isa_name(isa), algorithm_name(layer.algorithm()), (long long)p.in_channels,
            (long long)p.out_channels, (long long)p.groups, (long long)p.kernel_h, (long long)p.kernel_w,
            (long long)p.stride_h, (long long)p.stride_w, (long long)p.dilation_h, (long long)p.dilation_w,
            (long long)p.pad_top, (long long)p.pad_bottom, (long long)p.pad_left, (long long)p.pad_right,
            pad_mode_name(p.pad_mode), (long long)u.s.batch, (long long)u.s.height, (long long)u.s.width,
            i, got[i], want[i]);
      return;
    }
  }
  ++compared;
}

// forward() once per thread count (the pool's count is restored afterwards).
std::vector<std::vector<float>> forward_per_thread_count(const ConvLayer& layer, const CallShape& s,
                                                         const float* x, size_t out_n,
                                                         std::initializer_list<int> counts) {
  std::vector<std::vector<float>> outs;
  const int saved = get_num_threads();
  for (int threads : counts) {
    set_num_threads(threads);
    outs.emplace_back(out_n, std::nanf(""));
    layer.forward(s, x, outs.back().data());
  }
  set_num_threads(saved);
  return outs;
}

// Every output bitwise equal to the first one's (1 thread).
void check_same_bits(const std::vector<std::vector<float>>& outs, std::initializer_list<int> counts,
                     const char* what, int which) {
  const int* threads = counts.begin();
  for (size_t i = 1; i < outs.size(); ++i)
    CHECK(std::memcmp(outs[0].data(), outs[i].data(), outs[0].size() * 4) == 0,
          "%s case %d: %d vs %d threads differ", what, which, threads[0], threads[i]);
}

// A set cancel flag makes forward() throw Cancelled (with 2 threads).
bool cancels(const ConvLayer& layer, const CallShape& s, const float* x, float* out) {
  const int saved = get_num_threads();
  set_num_threads(2);
  int32_t flag = 1;
  bool cancelled = false;
  try {
    layer.forward(s, x, out, CancelFlag{&flag});
  } catch (const Cancelled&) {
    cancelled = true;
  }
  set_num_threads(saved);
  return cancelled;
}

}  // namespace

int main() {
  std::mt19937 rng(42);
  const GemmKernel* kernels[8];
  const int nk = runnable_gemm_kernels(kernels, 8);
  int compared = 0;
  for (int ki = 0; ki < nk; ++ki) {
    const Isa isa = kernels[ki]->isa;
    for (int t = 0; t < 300; ++t) compare("random", random_setup(rng), isa, rng, compared);
    // Large reductions cross K blocks; many channels cross M panels and tasks.
    Setup big;
    big.p.in_channels = 70; big.p.out_channels = 37;
    big.p.kernel_h = big.p.kernel_w = 3;
    big.p.pad_top = big.p.pad_bottom = big.p.pad_left = big.p.pad_right = 1;
    big.s = {2, 19, 23};
    for (int m = 0; m < 4; ++m) {
      big.p.pad_mode = PadMode(m);
      compare("big", big, isa, rng, compared);
    }
  }
  // 1x1, stride 1, no padding: the GEMM reads B in place from the input
  // (where the kernel can), with the last narrow panel packed. Pixel counts
  // around the tile widths, K across blocks (in place: 300 channels of 40x41), groups, batch > 1.
  int pointwise = 0;
  for (int ki = 0; ki < nk; ++ki) {
    const Isa isa = kernels[ki]->isa;
    const int64_t hws[][2] = {{1, 1}, {3, 5}, {7, 7}, {14, 14}, {5, 13}, {2, 40}, {40, 41}};
    for (const auto& hw : hws)
      for (int v = 0; v < 4; ++v) {
        Setup u;
        u.p.groups = v == 3 ? 2 : 1;
        u.p.in_channels = v == 1 ? 300 : v == 2 ? 8 : 6;
        u.p.out_channels = v == 0 ? 70 : v == 2 ? 9 : 10;
        u.s = {v == 2 ? 3 : 1, hw[0], hw[1]};
        compare("pointwise", u, isa, rng, pointwise);
      }
  }
  // Thread counts move the pixel-block edges, so the last few columns may
  // or may not take the tail kernel: bitwise identical still (B packed:
  // 300 channels of 14x14; B in place, K in sub-blocks: 900 channels of
  // 18x18 = 10*32 + 4 pixels, 17x20 = 10*32 + 20, 10x34 = 10*32 + 20).
  const CallShape pw_shapes[] = {{1, 14, 14}, {1, 18, 18}, {1, 17, 20}, {1, 10, 34}};
  for (int which = 0; which < 4; ++which) {
    Setup u;
    u.p.in_channels = which == 0 ? 300 : 900; u.p.out_channels = 40;
    u.s = pw_shapes[which];
    const int64_t hw = u.s.height * u.s.width;
    const auto x = test::random_vector(size_t(u.p.in_channels * hw), rng);
    const auto w = test::random_vector(size_t(u.p.weight_elements()), rng);
    const auto b = test::random_vector(40, rng);
    const ConvLayer layer(u.p, w.data(), b.data(), active_isa());
    const auto outs = forward_per_thread_count(layer, u.s, x.data(), size_t(40 * hw), {1, 2, 3, 4, 5});
    check_same_bits(outs, {1, 2, 3, 4, 5}, "pointwise", which);
  }
  std::printf("compared %d 1x1 layers\n", pointwise);

  // Winograd F(2x2, 3x3), forced on every ISA that has it: odd and even
  // output sizes (half tiles), one-tile images, rows of more than 16 tiles,
  // every padding mode incl. asymmetric padding, dilation 2 and 3 (output
  // phases), channel counts around the register panels and K blocks,
  // batch > 1, bias on/off.
  int wino = 0;
  for (int ki = 0; ki < nk; ++ki) {
    const Isa isa = kernels[ki]->isa;
    LayerParams probe;
    probe.kernel_h = probe.kernel_w = 3;
    if (!winograd_applies(probe, isa)) continue;
    auto pick = [&](int lo, int hi) { return int64_t(std::uniform_int_distribution<int>(lo, hi)(rng)); };
    for (int t = 0; t < 160; ++t) {
      Setup u;
      u.p.kernel_h = u.p.kernel_w = 3;
      u.p.in_channels = t % 10 == 0 ? 300 : pick(1, 40);
      u.p.out_channels = t % 7 == 0 ? 70 : pick(1, 40);
      u.p.pad_mode = PadMode(t % 4);
      u.p.dilation_h = u.p.dilation_w = t % 3 == 0 ? pick(2, 3) : 1;
      u.p.pad_top = pick(0, 3); u.p.pad_bottom = pick(0, 3);
      u.p.pad_left = pick(0, 3); u.p.pad_right = pick(0, 3);
      u.s = {pick(1, 3), pick(1, 14), t % 5 == 0 ? pick(30, 80) : pick(1, 20)};
      try { output_size(u.p, u.s); } catch (const std::invalid_argument&) { continue; }
      compare("winograd", u, isa, rng, wino, int(Algorithm::Winograd));
    }
  }
  std::printf("compared %d Winograd layers\n", wino);
  if (winograd_kernel_for(active_isa()) != nullptr) {
    CHECK(wino > 100, "too few Winograd layers compared: %d", wino);
    Setup u;
    u.p.in_channels = 48; u.p.out_channels = 40; u.p.kernel_h = u.p.kernel_w = 3;
    u.p.pad_top = u.p.pad_bottom = u.p.pad_left = u.p.pad_right = 1;
    u.p.pad_mode = PadMode::Reflect;
    u.s = {1, 21, 30};
    CHECK(choose_algorithm(u.p) == Algorithm::Winograd, "a 48->40 3x3 layer should run Winograd");
    const auto x = test::random_vector(size_t(48 * 21 * 30), rng);
    const auto w = test::random_vector(size_t(u.p.weight_elements()), rng);
    const auto b = test::random_vector(40, rng);
    const ConvLayer layer(u.p, w.data(), b.data(), active_isa());
    const auto outs = forward_per_thread_count(layer, u.s, x.data(), size_t(40 * 21 * 30), {1, 2, 3, 5});
    check_same_bits(outs, {1, 2, 3, 5}, "winograd", 0);
    std::vector<float> scratch(outs[0].size());
    CHECK(cancels(layer, u.s, x.data(), scratch.data()), "Winograd: a set cancel flag must throw Cancelled");
    LayerParams strided = u.p;
    strided.stride_w = 2;
    CHECK(test::throws([&] { ConvLayer l(strided, w.data(), nullptr, active_isa(), Algorithm::Winograd); }),
          "the Winograd algorithm must refuse a strided layer");
    LayerParams uneven = u.p;
    uneven.dilation_h = 2;
    CHECK(test::throws([&] { ConvLayer l(uneven, w.data(), nullptr, active_isa(), Algorithm::Winograd); }),
          "the Winograd algorithm must refuse unequal dilations");
    // dilation 2, several threads (phases x blocks x channel ranges)
    LayerParams dil = u.p;
    dil.dilation_h = dil.dilation_w = 2;
    dil.pad_top = dil.pad_bottom = dil.pad_left = dil.pad_right = 2;
    CHECK(choose_algorithm(dil) == Algorithm::Winograd, "a dilated 48->40 3x3 layer should run Winograd");
    const ConvLayer dlayer(dil, w.data(), b.data(), active_isa());
    const auto douts = forward_per_thread_count(dlayer, u.s, x.data(), size_t(40 * 21 * 30), {1, 2, 3, 5});
    check_same_bits(douts, {1, 2, 3, 5}, "winograd dilation 2", 0);
  }
  std::printf("compared %d layers against the reference over %d ISAs\n", compared, nk);

  // Every algorithm on every ISA, whatever choose_algorithm() picks: the
  // direct kernels (depthwise, grouped, dense) and the GEMM, on wider images
  // (several vectors per output row, stride-2 phase split, row pairs, bands).
  {
    const DirectKernel* dks[8];
    const int nd = runnable_direct_kernels(dks, 8);
    CHECK(nd >= 1 && dks[0]->isa == Isa::Scalar, "the scalar direct kernel must always run");
    int forced_compared = 0;
    for (int di = 0; di < nd; ++di) {
      const Isa isa = dks[di]->isa;
      if (gemm_kernel_for(isa) == nullptr) continue;
      std::printf("kernel %s (forced algorithms, %s)\n", dks[di]->name, isa_name(isa));
      for (int t = 0; t < 150; ++t) {
        Setup u = random_setup(rng);
        u.s.width = std::uniform_int_distribution<int>(1, 100)(rng);
        u.s.height = std::uniform_int_distribution<int>(1, 14)(rng);
        try { output_size(u.p, u.s); } catch (const std::invalid_argument&) { continue; }
        compare("forced-gemm", u, isa, rng, forced_compared, int(Algorithm::Gemm));
        compare("forced-direct", u, isa, rng, forced_compared,
                int(u.p.groups > 1 ? Algorithm::GroupedDirect : Algorithm::Direct));
        if (u.p.in_per_group() == 1)
          compare("forced-depthwise", u, isa, rng, forced_compared, int(Algorithm::Depthwise));
      }
    }
    std::printf("compared %d layers with forced algorithms over %d direct kernels\n", forced_compared, nd);
    // The 3x3 and 5x5 depthwise paths, every padding mode (zeros: the
    // in-place kernels; the others: the padded copy and its 3x3 fast path,
    // row stride 1 or 2, dilation 1 along rows): every register tile shape
    // (1-4 vectors per row, row groups and the single rows after them),
    // column dilation, multipliers.
    int dw_compared = 0;
    for (int di = 0; di < nd; ++di) {
      const Isa isa = dks[di]->isa;
      if (gemm_kernel_for(isa) == nullptr) continue;
      for (int t = 0; t < 80; ++t) {
        Setup u;
        auto pick = [&](int lo, int hi) { return int64_t(std::uniform_int_distribution<int>(lo, hi)(rng)); };
        u.p.in_channels = u.p.groups = pick(1, 6);
        u.p.out_channels = u.p.in_channels * pick(1, 2);
        u.p.kernel_h = u.p.kernel_w = t % 2 == 0 ? 3 : 5;
        u.p.stride_h = pick(1, 2); u.p.stride_w = pick(1, 2);
        u.p.dilation_w = pick(1, 2);
        u.p.pad_mode = PadMode(t / 2 % 4);
        u.p.pad_top = pick(0, 2); u.p.pad_bottom = pick(0, 2);
        u.p.pad_left = pick(0, 3); u.p.pad_right = pick(0, 3);
        u.s = {pick(1, 2), pick(3, 13), pick(3, 150)};
        try { output_size(u.p, u.s); } catch (const std::invalid_argument&) { continue; }
        compare("dw", u, isa, rng, dw_compared, int(Algorithm::Depthwise));
      }
    }
    CHECK(dw_compared > 100, "too few 3x3 / 5x5 depthwise layers compared: %d", dw_compared);
    // The in-place depthwise kernels (zero padding, DirectKernel::dw<k>s<s>)
    // on every ISA that has them (the SIMD ones): against the reference and bitwise across 1-3 threads
    // (bands of rows that start inside a kernel's row group). Widths around
    // the vector blocks, odd heights, top and left padding 0 to past the
    // kernel, a right padding that puts whole vectors past the row,
    // multipliers, bias on/off, batch 2.
    int in_place_compared = 0;
    for (int di = 0; di < nd; ++di) {
      const Isa isa = dks[di]->isa;
      if (gemm_kernel_for(isa) == nullptr || dks[di]->dw3s1 == nullptr) continue;  // scalar: none
      const int64_t widths[] = {1, 2, 5, 16, 31, 32, 33, 63, 64, 65, 112, 130, 200};
      for (int64_t k : {3, 5})
        for (int64_t stride : {1, 2})
          for (int64_t wd : widths)
            for (int64_t v = 0; v < 3; ++v) {
              Setup u;
              LayerParams& p = u.p;
              p.in_channels = p.groups = 3;
              p.out_channels = v == 2 ? 6 : 3;
              p.kernel_h = p.kernel_w = k;
              p.stride_h = p.stride_w = stride;
              p.pad_left = v == 2 ? k + 1 : k / 2;
              p.pad_right = v == 1 ? 40 : k / 2;
              p.pad_top = v; p.pad_bottom = k / 2;
              u.s = {2, 7 + v * 4, wd};
              if (test::throws([&] { output_size(p, u.s); })) continue;
              const ConvLayer l(p, std::vector<float>(size_t(p.weight_elements()), 0.0f).data(), nullptr, isa,
                                Algorithm::Depthwise);
              CHECK(l.plan(u.s, 1).dp.dw_in_place != nullptr, "%s: no in-place kernel for %lldx%lld stride %lld",
                    dks[di]->name, (long long)k, (long long)k, (long long)stride);
              const int before = in_place_compared;
              compare("dw in place", u, isa, rng, in_place_compared, int(Algorithm::Depthwise));
              if (in_place_compared == before) continue;
              const OutputSize o = output_size(p, u.s);
              const auto x = test::random_vector(size_t(2 * 3 * u.s.height * wd), rng);
              const auto w = test::random_vector(size_t(p.weight_elements()), rng);
              const auto b = test::random_vector(size_t(p.out_channels), rng);
              const ConvLayer fast(p, w.data(), v == 0 ? nullptr : b.data(), isa, Algorithm::Depthwise);
              const auto outs = forward_per_thread_count(
                  fast, u.s, x.data(), size_t(2 * p.out_channels * o.height * o.width), {1, 2, 3});
              check_same_bits(outs, {1, 2, 3}, "in-place depthwise", int(in_place_compared));
            }
    }
    CHECK(in_place_compared > 100, "too few in-place depthwise layers compared: %d", in_place_compared);
    std::printf("compared %d in-place depthwise layers (reference and 1-3 threads)\n", in_place_compared);
    std::printf("compared %d 3x3 / 5x5 depthwise layers\n", dw_compared);
    LayerParams dense;
    dense.in_channels = 8; dense.out_channels = 8;
    CHECK(test::throws([&] {
            const std::vector<float> w(64);
            ConvLayer l(dense, w.data(), nullptr, Isa::Scalar, Algorithm::Depthwise);
          }), "the depthwise algorithm must refuse a dense layer");
  }
  std::printf("active ISA: %s\n", isa_name(active_isa()));  // honours SIMDCONV_MAX_ISA

  // Bitwise identical results for 1, 2 and 3 threads.
  {
    Setup u;
    u.p.in_channels = 48; u.p.out_channels = 40;
    u.p.kernel_h = u.p.kernel_w = 3;
    u.p.pad_top = u.p.pad_bottom = u.p.pad_left = u.p.pad_right = 1;
    u.p.pad_mode = PadMode::Reflect;
    u.s = {2, 30, 30};
    const OutputSize o = output_size(u.p, u.s);
    const auto x = test::random_vector(size_t(2 * 48 * 30 * 30), rng);
    const auto w = test::random_vector(size_t(u.p.weight_elements()), rng);
    // forced: choose_algorithm() sends this layer to the direct kernel
    const ConvLayer layer(u.p, w.data(), nullptr, active_isa(), Algorithm::Gemm);
    const auto outs = forward_per_thread_count(layer, u.s, x.data(), size_t(2 * 40 * o.height * o.width), {1, 2, 3});
    check_same_bits(outs, {1, 2, 3}, "gemm", 0);
    std::vector<float> scratch(outs[0].size());
    CHECK(cancels(layer, u.s, x.data(), scratch.data()), "forward with a set cancel flag must throw Cancelled");
  }
  // Batch 1, few pixel blocks: with several threads the GEMM packs B once and
  // shares it (GemmPlan::shared_b), in pixel chunks when the image is larger
  // than one block. Against the reference, and bitwise for any thread count.
  for (int which = 0; which < 8; ++which) {
    Setup u;
    u.p.pad_mode = PadMode::Zeros;
    if (which == 6) {  // wide rows: the zero-padded input band is over its cap (row-wise packing)
      u.p.in_channels = 40; u.p.out_channels = 16; u.p.kernel_h = u.p.kernel_w = 3;
      u.p.pad_top = u.p.pad_bottom = u.p.pad_left = u.p.pad_right = 1;
      u.s = {1, 3, 700};
    } else if (which == 7) {  // row stride 2, column dilation 2, uneven padding (padded band)
      u.p.in_channels = 20; u.p.out_channels = 12; u.p.kernel_h = u.p.kernel_w = 3;
      u.p.stride_h = 2; u.p.dilation_w = 2;
      u.p.pad_top = 2; u.p.pad_bottom = 0; u.p.pad_left = 1; u.p.pad_right = 3;
      u.s = {1, 11, 9};
    } else if (which == 4) {  // tiny image: fewer pixel blocks than threads (B shared)
      u.p.in_channels = 64; u.p.out_channels = 72; u.p.kernel_h = u.p.kernel_w = 3;
      u.p.pad_top = u.p.pad_bottom = u.p.pad_left = u.p.pad_right = 1;
      u.s = {1, 5, 5};
    } else if (which == 5) {  // pixel blocks split at 16 columns (AVX-512 half tiles)
      u.p.in_channels = 24; u.p.out_channels = 20; u.p.kernel_h = u.p.kernel_w = 3;
      u.p.pad_top = u.p.pad_bottom = u.p.pad_left = u.p.pad_right = 1;
      u.s = {1, 13, 15};
    } else if (which == 0) {  // 3x3, K over several K blocks, one pixel block
      u.p.in_channels = 64; u.p.out_channels = 72; u.p.kernel_h = u.p.kernel_w = 3;
      u.p.pad_top = u.p.pad_bottom = u.p.pad_left = u.p.pad_right = 1;
      u.s = {1, 14, 14};
    } else if (which == 1) {  // 1x7, zero padding on the columns only
      u.p.in_channels = 40; u.p.out_channels = 33; u.p.kernel_h = 1; u.p.kernel_w = 7;
      u.p.pad_left = u.p.pad_right = 3;
      u.s = {1, 17, 17};
    } else if (which == 2) {  // dilated, several pixel chunks, bias
      u.p.in_channels = 30; u.p.out_channels = 20; u.p.kernel_h = u.p.kernel_w = 3;
      u.p.dilation_h = u.p.dilation_w = 2;
      u.p.pad_top = u.p.pad_bottom = u.p.pad_left = u.p.pad_right = 2;
      u.s = {1, 37, 29};
    } else {  // reflect padding, batch 2, groups
      u.p.in_channels = 48; u.p.out_channels = 40; u.p.groups = 2; u.p.kernel_h = u.p.kernel_w = 3;
      u.p.pad_top = u.p.pad_bottom = u.p.pad_left = u.p.pad_right = 1;
      u.p.pad_mode = PadMode::Reflect;
      u.s = {2, 9, 11};
    }
    const OutputSize o = output_size(u.p, u.s);
    const size_t out_n = size_t(u.s.batch * u.p.out_channels * o.height * o.width);
    const auto x = test::random_vector(size_t(u.s.batch * u.p.in_channels * u.s.height * u.s.width), rng);
    const auto w = test::random_vector(size_t(u.p.weight_elements()), rng);
    const auto bias = test::random_vector(size_t(u.p.out_channels), rng);
    std::vector<float> want(out_n);
    reference_conv2d(u.p, u.s, x.data(), w.data(), bias.data(), want.data());
    const ConvLayer layer(u.p, w.data(), bias.data(), active_isa(), Algorithm::Gemm);
    const double k = double(u.p.reduction());
    const auto outs = forward_per_thread_count(layer, u.s, x.data(), out_n, {1, 2, 3, 4});
    for (size_t t = 0; t < outs.size(); ++t)
      for (size_t i = 0; i < out_n; ++i)
        if (!test::close(outs[t][i], want[i], k + 1, k + 1)) {
          CHECK(false, "shared-B case %d threads %zu: elem %zu got %.9g want %.9g", which, t + 1, i,
                outs[t][i], want[i]);
          break;
        }
    check_same_bits(outs, {1, 2, 3, 4}, "shared-B", which);
    std::vector<float> scratch(out_n);
    CHECK(cancels(layer, u.s, x.data(), scratch.data()), "shared-B case %d: a set cancel flag must throw Cancelled", which);
  }
  // The direct paths split rows into bands by thread count: still bitwise identical.
  for (int which = 0; which < 5; ++which) {
    Setup u;
    u.p.kernel_h = u.p.kernel_w = 3;
    u.p.pad_top = u.p.pad_bottom = u.p.pad_left = u.p.pad_right = 1;
    u.p.pad_mode = PadMode::Reflect;
    if (which == 0) { u.p.in_channels = u.p.groups = 6; u.p.out_channels = 12; }
    if (which == 1) { u.p.in_channels = u.p.out_channels = 16; u.p.groups = 4; }
    if (which == 2) { u.p.in_channels = 5; u.p.out_channels = 11; }
    if (which == 3) { u.p.in_channels = u.p.out_channels = u.p.groups = 7; u.p.stride_h = u.p.stride_w = 2; }
    if (which == 4) { u.p.in_channels = 19; u.p.out_channels = 21; }  // dense, flat rows, 8 + 8 + 5 channels
    u.s = {1, 45, 70};
    const OutputSize o = output_size(u.p, u.s);
    const auto x = test::random_vector(size_t(u.p.in_channels * 45 * 70), rng);
    const auto w = test::random_vector(size_t(u.p.weight_elements()), rng);
    const auto bias = test::random_vector(size_t(u.p.out_channels), rng);
    const Algorithm algo = which == 1 ? Algorithm::GroupedDirect
                           : which == 2 || which == 4 ? Algorithm::Direct : Algorithm::Depthwise;
    CHECK(which == 2 || which == 4 || choose_algorithm(u.p) == algo, "case %d: expected %s", which, algorithm_name(algo));
    const ConvLayer layer(u.p, w.data(), bias.data(), active_isa(), algo);
    const size_t out_n = size_t(u.p.out_channels * o.height * o.width);
    const auto outs = forward_per_thread_count(layer, u.s, x.data(), out_n, {1, 2, 3, 5});
    check_same_bits(outs, {1, 2, 3, 5}, "direct", which);
    std::vector<float> scratch(out_n);
    CHECK(cancels(layer, u.s, x.data(), scratch.data()), "direct case %d: a set cancel flag must throw Cancelled", which);
  }
  return test::finish("test_conv_layer");
}
