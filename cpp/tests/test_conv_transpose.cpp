// ConvTranspose2d on the core: the transposed algorithm against the oracle
// (reference_conv_transpose2d, a scatter in double) over random layers with
// every option (stride, padding, output padding, groups incl. depthwise-style,
// dilation, bias, batch), bitwise identical results at 1, 2 and 3 threads,
// tiles that cover the output exactly once, a set cancel flag, and the
// layer's validation (output padding rule, zeros padding only, output >= 1).
#include <cstring>
#include <limits>
#include <stdexcept>

#include "check.h"
#include "simdconv/conv_layer.h"
#include "simdconv/plan.h"
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
    p.transposed = true;
    const int64_t kind = pick(0, 5);
    if (kind == 0) {  // depthwise-style: one input channel per group
      p.groups = pick(1, 6);
      p.in_channels = p.groups;
      p.out_channels = p.groups * pick(1, 3);
    } else {
      p.groups = kind == 1 ? pick(2, 3) : 1;
      p.in_channels = p.groups * pick(1, 9);
      p.out_channels = p.groups * pick(1, 9);
    }
    p.kernel_h = pick(1, 5); p.kernel_w = pick(1, 4);
    p.stride_h = pick(1, 3); p.stride_w = pick(1, 3);
    p.dilation_h = pick(1, 3); p.dilation_w = pick(1, 2);
    p.pad_top = p.pad_bottom = pick(0, 3);
    p.pad_left = p.pad_right = pick(0, 3);
    p.output_padding_h = pick(0, int(std::max(p.stride_h, p.dilation_h) - 1));
    p.output_padding_w = pick(0, int(std::max(p.stride_w, p.dilation_w) - 1));
    u.s = {pick(1, 3), pick(1, 9), pick(1, 11)};
    try {
      output_size(p, u.s);
      return u;
    } catch (const std::invalid_argument&) {
      // the padding crops the whole output; draw again
    }
  }
}

void check_layer(const Setup& u, std::mt19937& rng, int& compared) {
  const LayerParams& p = u.p;
  const OutputSize o = output_size(p, u.s);
  const auto x = test::random_vector(size_t(u.s.batch * p.in_channels * u.s.height * u.s.width), rng);
  const auto w = test::random_vector(size_t(p.weight_elements()), rng);
  const auto b = test::random_vector(size_t(p.out_channels), rng);
  const bool with_bias = rng() % 2 == 0;
  const size_t out_n = size_t(u.s.batch * p.out_channels * o.height * o.width);
  std::vector<float> want(out_n);
  reference_conv_transpose2d(p, u.s, x.data(), w.data(), with_bias ? b.data() : nullptr, want.data());
  const ConvLayer layer(p, w.data(), with_bias ? b.data() : nullptr);
  CHECK(layer.algorithm() == Algorithm::TransposedDirect, "algorithm %d", int(layer.algorithm()));
  std::vector<float> first;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    std::vector<float> got(out_n, std::numeric_limits<float>::quiet_NaN());
    layer.forward(u.s, x.data(), got.data());
    if (threads == 1) {
      first = got;
      // each output reads at most Cin/groups x kH x kW taps of magnitude <= 1
      const double k = double(p.reduction()) + 1;
      for (size_t i = 0; i < out_n; ++i)
        CHECK(test::close(got[i], want[i], k, k), "element %zu: got %g want %g (Cin %lld Cout %lld g %lld)",
              i, got[i], want[i], (long long)p.in_channels, (long long)p.out_channels, (long long)p.groups);
    } else {
      CHECK(std::memcmp(got.data(), first.data(), out_n * sizeof(float)) == 0,
            "%d threads differ bitwise from 1 thread", threads);
    }
    // the plan's tiles cover every output element exactly once
    const Plan pl = layer.plan(u.s, threads);
    std::vector<int> hits(out_n, 0);
    for (const OutputTile& t : output_tiles(pl, p))
      for (int64_t c = t.c0; c < t.c1; ++c)
        for (const auto& sp : t.spans)
          for (int64_t e = sp.first; e < sp.second; ++e)
            ++hits[size_t((t.n * p.out_channels + c) * o.height * o.width + e)];
    bool once = true;
    for (int h : hits) once = once && h == 1;
    CHECK(once, "tiles do not cover the output exactly once at %d threads", threads);
    CHECK(pl.workspace_floats == 0, "workspace %lld", (long long)pl.workspace_floats);
  }
  set_num_threads(1);
  ++compared;
}

LayerParams base() {
  LayerParams p;
  p.transposed = true;
  p.in_channels = 4; p.out_channels = 6;
  p.kernel_h = p.kernel_w = 3;
  return p;
}

void check_validation() {
  LayerParams p = base();
  p.output_padding_h = 1;  // stride 1, dilation 1: refused
  CHECK(test::throws([&] { p.validate(); }), "output_padding 1 with stride 1 accepted");
  p.stride_h = 2;
  CHECK(!test::throws([&] { p.validate(); }), "output_padding 1 with stride 2 refused");
  p.stride_h = 1; p.dilation_h = 2;  // smaller than the dilation is enough (PyTorch)
  CHECK(!test::throws([&] { p.validate(); }), "output_padding 1 with dilation 2 refused");
  p = base();
  p.pad_mode = PadMode::Reflect;
  CHECK(test::throws([&] { p.validate(); }), "reflect padding accepted for a transposed layer");
  p = base();
  p.output_padding_w = 1;
  p.transposed = false;
  CHECK(test::throws([&] { p.validate(); }), "output_padding accepted for a plain Conv2d");
  p = base();
  p.pad_top = p.pad_bottom = 3;  // (1-1)*1 - 6 + 2 + 1 < 1
  CHECK(test::throws([&] { output_size(p, CallShape{1, 1, 5}); }), "output height below 1 accepted");
  const OutputSize o = output_size(base(), CallShape{1, 5, 7});
  CHECK(o.height == 7 && o.width == 9, "output %lld x %lld", (long long)o.height, (long long)o.width);
  LayerParams q = base();
  q.stride_h = 2; q.stride_w = 3; q.pad_top = q.pad_bottom = 1; q.dilation_w = 2;
  q.output_padding_h = 1; q.output_padding_w = 2;
  const OutputSize o2 = output_size(q, CallShape{1, 5, 7});
  // (5-1)*2 - 2 + 2 + 1 + 1 = 10; (7-1)*3 - 0 + 4 + 2 + 1 = 25
  CHECK(o2.height == 10 && o2.width == 25, "output %lld x %lld", (long long)o2.height, (long long)o2.width);
  // a plain layer cannot be forced onto the transposed algorithm, nor the reverse
  const std::vector<float> w(size_t(base().weight_elements()));
  LayerParams plain = base();
  plain.transposed = false;
  CHECK(test::throws([&] { ConvLayer(plain, w.data(), nullptr, active_isa(), Algorithm::TransposedDirect); }),
        "plain layer on the transposed algorithm");
  CHECK(test::throws([&] { ConvLayer(base(), w.data(), nullptr, active_isa(), Algorithm::Gemm); }),
        "transposed layer on the GEMM");
}

void check_cancel() {
  const LayerParams p = base();
  const CallShape s{2, 6, 6};
  const OutputSize o = output_size(p, s);
  const std::vector<float> x(size_t(2 * 4 * 36), 1.0f), w(size_t(p.weight_elements()), 1.0f);
  std::vector<float> y(size_t(2 * 6 * o.height * o.width));
  const ConvLayer layer(p, w.data(), nullptr);
  const volatile int32_t set = 1;
  CHECK(test::throws([&] { layer.forward(s, x.data(), y.data(), CancelFlag{&set, nullptr}); }),
        "a set cancel flag did not stop the call");
}

}  // namespace

int main() {
  std::mt19937 rng(1234);
  int compared = 0;
  for (int i = 0; i < 300; ++i) check_layer(random_setup(rng), rng, compared);
  check_validation();
  check_cancel();
  std::printf("compared %d transposed layers\n", compared);
  return test::finish("test_conv_transpose");
}
