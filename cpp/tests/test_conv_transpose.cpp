// ConvTranspose2d on the core: both transposed algorithms (the GEMM + col2im
// as the planner runs it, and the direct gather forced) on every ISA this
// CPU runs, against the oracle (reference_conv_transpose2d, a scatter in
// double) over random layers with every option (stride, padding, output
// padding, groups incl. depthwise-style, dilation, bias, batch) and named
// ones (the bench's layers, the GEMM's tiling boundaries), bitwise identical
// results at 1, 2 and 3 threads, tiles that cover the output exactly once,
// workspace within the plan's bound, a set cancel flag, and the layer's
// validation (output padding rule, zeros padding only, output >= 1).
#include <cstring>
#include <limits>
#include <string>
#include <stdexcept>

#include "check.h"
#include "simdconv/conv_layer.h"
#include "simdconv/kernels.h"
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

// The ISAs this build has and this CPU runs, scalar first.
std::vector<Isa> runnable_isas() {
  std::vector<Isa> v;
  for (Isa isa : {Isa::Scalar, Isa::Neon, Isa::Avx2, Isa::Avx512})
    if (kernels_for(isa) != nullptr && cpu_supports(isa)) v.push_back(isa);
  return v;
}

struct Counts {
  int compared = 0;  // layer x ISA x algorithm runs against the reference
  int gemm = 0;      // of those, calls that ran the transposed GEMM
};

// One layer on one ISA, built for `algo` (the planner's choice runs it when
// it is the transposed GEMM: plan_conv may send the call to the gather):
// against the oracle, bitwise across 1, 2 and 3 threads, the plan's tiles
// covering the output once, its workspace within its bound and the scratch
// the call took within the plan's.
void check_run(const Setup& u, const std::vector<float>& x, const std::vector<float>& w,
               const float* bias, const std::vector<float>& want, Isa isa, Algorithm algo, Counts& n) {
  const LayerParams& p = u.p;
  const OutputSize o = output_size(p, u.s);
  const size_t out_n = want.size();
  const ConvLayer layer(p, w.data(), bias, isa, algo);
  const std::string what = std::string(algorithm_name(algo)) + " on " + isa_name(isa);
  std::vector<float> first;
  Algorithm ran = algo;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    const Plan pl = layer.plan(u.s, threads);
    if (threads == 1) ran = pl.algorithm;
    CHECK(pl.algorithm == ran, "%s: %d threads run %s, 1 thread %s", what.c_str(), threads,
          algorithm_name(pl.algorithm), algorithm_name(ran));
    CHECK(algo == Algorithm::TransposedGemm ||  pl.algorithm == algo, "%s: ran %s", what.c_str(),
          algorithm_name(pl.algorithm));
    std::vector<float> got(out_n, std::numeric_limits<float>::quiet_NaN());
    reset_cost_counters();
    layer.forward(u.s, x.data(), got.data());
    const CostCounters cc = cost_counters();
    CHECK(cc.last_run == pl.algorithm, "%s: ran %s, planned %s", what.c_str(), algorithm_name(cc.last_run),
          algorithm_name(pl.algorithm));
    CHECK(cc.scratch_peak <= pl.workspace_floats, "%s: scratch %lld above the plan's %lld", what.c_str(),
          (long long)cc.scratch_peak, (long long)pl.workspace_floats);
    if (pl.algorithm == Algorithm::TransposedGemm) {
      const GemmKernel& gk = *kernels_for(isa)->gemm;
      CHECK(pl.workspace_floats <= kTransposedColsBudget + int64_t(gk.kc * gk.nr) + pl.tg.panel_pad,
            "%s: workspace %lld above the budget", what.c_str(), (long long)pl.workspace_floats);
      CHECK(transposed_gemm_pays(p, u.s, gk), "%s: runs the GEMM where it does not pay", what.c_str());
    } else {
      CHECK(pl.workspace_floats == 0, "%s: workspace %lld", what.c_str(), (long long)pl.workspace_floats);
    }
    if (threads == 1) {
      first = got;
      // each output reads at most Cin/groups x kH x kW taps of magnitude <= 1
      const double k = double(p.reduction()) + 1;
      size_t bad = 0;
      while (bad < out_n && test::close(got[bad], want[bad], k, k)) ++bad;
      CHECK(bad == out_n, "%s: element %zu: got %g want %g (Cin %lld Cout %lld g %lld)", what.c_str(), bad,
            bad < out_n ? got[bad] : 0.0f, bad < out_n ? want[bad] : 0.0f, (long long)p.in_channels,
            (long long)p.out_channels, (long long)p.groups);
    } else {
      CHECK(std::memcmp(got.data(), first.data(), out_n * sizeof(float)) == 0,
            "%s: %d threads differ bitwise from 1 thread", what.c_str(), threads);
    }
    // the plan's tiles cover every output element exactly once
    std::vector<int> hits(out_n, 0);
    for (const OutputTile& t : output_tiles(pl, p))
      for (int64_t c = t.c0; c < t.c1; ++c)
        for (const auto& sp : t.spans)
          for (int64_t e = sp.first; e < sp.second; ++e)
            ++hits[size_t((t.n * p.out_channels + c) * o.height * o.width + e)];
    bool once = true;
    for (int h : hits) once = once && h == 1;
    CHECK(once, "%s: tiles do not cover the output exactly once at %d threads", what.c_str(), threads);
  }
  set_num_threads(1);
  ++n.compared;
  if (ran == Algorithm::TransposedGemm) ++n.gemm;
}

void check_layer(const Setup& u, std::mt19937& rng, Counts& n) {
  const LayerParams& p = u.p;
  const OutputSize o = output_size(p, u.s);
  const auto x = test::random_vector(size_t(u.s.batch * p.in_channels * u.s.height * u.s.width), rng);
  const auto w = test::random_vector(size_t(p.weight_elements()), rng);
  const auto b = test::random_vector(size_t(p.out_channels), rng);
  const bool with_bias = rng() % 2 == 0;
  const size_t out_n = size_t(u.s.batch * p.out_channels * o.height * o.width);
  std::vector<float> want(out_n);
  reference_conv_transpose2d(p, u.s, x.data(), w.data(), with_bias ? b.data() : nullptr, want.data());
  const ConvLayer chosen(p, w.data(), with_bias ? b.data() : nullptr);
  CHECK(chosen.algorithm() == Algorithm::TransposedGemm, "algorithm %s", algorithm_name(chosen.algorithm()));
  for (Isa isa : runnable_isas())
    for (Algorithm a : {Algorithm::TransposedGemm, Algorithm::TransposedDirect})
      check_run(u, x, w, with_bias ? b.data() : nullptr, want, isa, a, n);
}

LayerParams layer(int64_t cin, int64_t cout, int64_t k, int64_t stride, int64_t pad, int64_t out_pad = 0) {
  LayerParams p;
  p.transposed = true;
  p.in_channels = cin; p.out_channels = cout;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pad;
  p.output_padding_h = p.output_padding_w = out_pad;
  return p;
}

// The layers of the bench and the boundaries of the GEMM's tiling: DCGAN's
// 4x4 stride 2, UNet's 2x2 stride 2, super-resolution's 3x3 stride 2 with
// output padding, 1x1, depthwise-style groups, non-square, batch; a layer
// whose cols split into row bands and one whose rows split into column
// bands (kTransposedColsBudget); one where not even one output element's
// cols fit (the call runs on the gather).
void check_named(std::mt19937& rng, Counts& n) {
  struct Named {
    const char* name;
    Setup u;
    bool gemm;    // whether the planner runs the GEMM
    bool split;   // whether one thread's plan splits the output into bands
  };
  std::vector<Named> v;
  v.push_back({"DCGAN 4x4 s2", {layer(32, 16, 4, 2, 1), {1, 8, 8}}, true, false});
  v.push_back({"UNet 2x2 s2", {layer(24, 12, 2, 2, 0), {2, 9, 7}}, true, false});
  v.push_back({"SR 3x3 s2 op1", {layer(16, 16, 3, 2, 1, 1), {1, 10, 6}}, true, false});
  v.push_back({"1x1", {layer(20, 36, 1, 1, 0), {3, 5, 4}}, true, false});
  v.push_back({"1x1 stride 3", {layer(7, 7, 1, 3, 0), {1, 4, 5}}, true, false});
  Named dw{"depthwise-style", {layer(12, 24, 3, 2, 1, 1), {2, 6, 5}}, true, false};
  dw.u.p.groups = 12;
  v.push_back(dw);
  Named ns{"non-square", {layer(6, 10, 3, 1, 0), {1, 7, 4}}, true, false};
  ns.u.p.kernel_h = 5; ns.u.p.stride_w = 3; ns.u.p.pad_top = ns.u.p.pad_bottom = 2; ns.u.p.dilation_w = 2;
  ns.u.p.output_padding_w = 1; ns.u.p.groups = 2;
  v.push_back(ns);
  v.push_back({"M = 3200: row bands", {layer(2, 128, 5, 1, 2), {1, 24, 24}}, true, true});
  v.push_back({"wide rows: column bands", {layer(2, 64, 5, 1, 0), {1, 2, 1500}}, true, true});
  Named row{"one output row", {layer(4, 6, 3, 2, 1), {1, 1, 40}}, true, false};
  row.u.p.kernel_h = 1; row.u.p.pad_top = row.u.p.pad_bottom = 0;
  v.push_back(row);
  Named far{"dilation 30: cols of one element over the budget", {layer(2, 128, 3, 1, 0), {1, 31, 31}}, false, false};
  far.u.p.dilation_h = far.u.p.dilation_w = 30;
  v.push_back(far);
  for (const Named& c : v) {
    const int before = n.gemm;
    check_layer(c.u, rng, n);
    CHECK(transposed_gemm_pays(c.u.p, c.u.s, *kernels_for(active_isa())->gemm) == c.gemm,
          "%s: transposed_gemm_pays is not %d", c.name, int(c.gemm));
    CHECK((n.gemm > before) == c.gemm, "%s: the GEMM ran %d times", c.name, n.gemm - before);
    if (!c.gemm) continue;
    const std::vector<float> w(size_t(c.u.p.weight_elements()));
    const Plan pl = ConvLayer(c.u.p, w.data(), nullptr).plan(c.u.s, 1);
    CHECK((pl.tg.bands * pl.tg.col_bands > 1) == c.split, "%s: %lld x %lld bands at 1 thread", c.name,
          (long long)pl.tg.bands, (long long)pl.tg.col_bands);
    // more threads: at least as many tasks (row bands, or column bands
    // where the output has fewer rows than threads)
    const Plan p3 = ConvLayer(c.u.p, w.data(), nullptr).plan(c.u.s, 3);
    CHECK(p3.tasks >= 3, "%s: %lld tasks at 3 threads", c.name, (long long)p3.tasks);
  }
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
  CHECK(test::throws([&] { ConvLayer(plain, w.data(), nullptr, active_isa(), Algorithm::TransposedGemm); }),
        "plain layer on the transposed GEMM");
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
  Counts n;
  for (int i = 0; i < 300; ++i) check_layer(random_setup(rng), rng, n);
  check_named(rng, n);
  // the random layers are small and dense enough for the GEMM to pay
  CHECK(n.gemm * 2 > n.compared * 9 / 10, "the transposed GEMM ran %d of %d times", n.gemm, n.compared / 2);
  check_validation();
  check_cancel();
  std::printf("compared %d transposed layer runs (%d on the transposed GEMM)\n", n.compared, n.gemm);
  return test::finish("test_conv_transpose");
}
