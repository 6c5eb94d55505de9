// The fused epilogue y = act(conv(x) + bias + residual) on every algorithm
// (forced: the GEMM with packed B, shared B, B in place and the narrow-tail
// kernel; direct dense, grouped and depthwise, the in-place 3x3 depthwise
// kernels at stride 1 and 2; Winograd at dilation 1 and 2; transposed (the
// gather and the GEMM + col2im); the
// GEMM fallback of a direct and of a Winograd layer) and every ISA this CPU
// runs, for every activation, with and without a residual:
//   - against the reference convolution plus the activation in double,
//     within the layer tests' tolerance carried through the activation's
//     slope, plus the activation kernel's own bound;
//   - bitwise identical at 1, 2 and 3 threads;
//   - no activation and no residual: the bits of a layer built without one;
//     no activation with a residual: exactly float(conv + residual), and
//     relu: exactly max of that and 0 (the epilogue ran once per element);
//   - a residual that is the output itself gives the non-aliased result;
//   - a tuned layer, and one that adopts its tuning, keep the activation;
//   - invalid activations are refused.
#include <cstring>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include "act_ref.h"
#include "check.h"
#include "layers.h"
#include "simdconv/conv_layer.h"
#include "simdconv/reference_conv.h"
#include "simdconv/thread_pool.h"

using namespace simdconv;

namespace {

// What a case must exercise, checked on the layer's plan (where the ISA
// has the kernel for it).
enum class Expect { Nothing, SharedB, BInPlace, DwInPlace, GemmFallback, TransposedGemm };

struct Case {
  const char* name;
  LayerParams p;
  CallShape s;
  Algorithm algo;
  Expect expect;
};

LayerParams transposed_layer() {
  LayerParams p = test::layer(6, 4, 3, 3, 2, 1, 1, 2);
  p.transposed = true;
  p.output_padding_h = p.output_padding_w = 1;
  return p;
}

std::vector<Case> cases() {
  using test::layer;
  const PadMode reflect = PadMode::Reflect;
  return {
      // K = 270 crosses a K block; 14x14 = 196 pixels ends in a narrow panel
      // (the tail kernel where the ISA has one)
      {"gemm-packed-tail", layer(30, 19, 3, 3, 1, 1, 1, 1, reflect), {2, 14, 14}, Algorithm::Gemm, Expect::Nothing},
      // batch 1, no more pixels than one panel of any ISA's NR (8 = the
      // scalar's): the pixels cannot split, so at 2 and 3 threads B is
      // shared and the output channels split over the tasks
      {"gemm-shared-b", layer(64, 72, 3, 3, 1, 1, 1, 1), {1, 2, 4}, Algorithm::Gemm, Expect::SharedB},
      // 1x1, stride 1, unpadded: B read in place, 18x18 = 10*32 + 4 pixels
      {"gemm-b-in-place", layer(64, 21, 1, 1, 1, 0, 1, 1), {1, 18, 18}, Algorithm::Gemm, Expect::BInPlace},
      {"gemm-grouped", layer(12, 10, 3, 3, 2, 1, 1, 2), {2, 9, 11}, Algorithm::Gemm, Expect::Nothing},
      {"direct", layer(5, 11, 3, 3, 1, 1, 1, 1, reflect), {1, 13, 21}, Algorithm::Direct, Expect::Nothing},
      {"grouped-direct", layer(8, 12, 3, 3, 2, 1, 1, 4), {2, 10, 15}, Algorithm::GroupedDirect, Expect::Nothing},
      {"depthwise-5x5", layer(6, 12, 5, 5, 1, 2, 1, 6, PadMode::Circular), {1, 9, 17}, Algorithm::Depthwise, Expect::Nothing},
      {"depthwise-3x3-s1", layer(4, 4, 3, 3, 1, 1, 1, 4), {2, 11, 37}, Algorithm::Depthwise, Expect::DwInPlace},
      {"depthwise-3x3-s2", layer(3, 6, 3, 3, 2, 1, 1, 3), {1, 13, 70}, Algorithm::Depthwise, Expect::DwInPlace},
      // the in-place 5x5 kernels (zero padding 2), stride 1 and 2
      {"depthwise-5x5-s1", layer(5, 5, 5, 5, 1, 2, 1, 5), {1, 12, 29}, Algorithm::Depthwise, Expect::DwInPlace},
      {"depthwise-5x5-s2", layer(4, 4, 5, 5, 2, 2, 1, 4), {2, 15, 41}, Algorithm::Depthwise, Expect::DwInPlace},
      {"winograd", layer(12, 10, 3, 3, 1, 1, 1, 1), {1, 9, 11}, Algorithm::Winograd, Expect::Nothing},
      {"winograd-d2", layer(9, 11, 3, 3, 1, 2, 2, 1, reflect), {2, 11, 13}, Algorithm::Winograd, Expect::Nothing},
      {"transposed", transposed_layer(), {2, 5, 6}, Algorithm::TransposedDirect, Expect::Nothing},
      // the GEMM + col2im; several row bands at 2 and 3 threads
      {"transposed-gemm", transposed_layer(), {2, 5, 6}, Algorithm::TransposedGemm, Expect::TransposedGemm},
      // dilation and padding 1000 around a 4x5 input: the band would be far
      // larger than what the 4x5 output reads, so the call runs the GEMM
      {"fallback-direct", layer(3, 5, 3, 3, 1, 1000, 1000, 1), {1, 4, 5}, Algorithm::Direct, Expect::GemmFallback},
      {"fallback-winograd", layer(3, 5, 3, 3, 1, 1000, 1000, 1), {1, 4, 5}, Algorithm::Winograd, Expect::GemmFallback},
  };
}

std::vector<Activation> activations() {
  return {{ActKind::None, 0, 0},      {ActKind::Relu, 0, 0},       {ActKind::Relu6, 0, 0},
          {ActKind::LeakyRelu, 0.2f, 0}, {ActKind::Hardtanh, -0.5f, 0.75f}, {ActKind::Elu, 1.3f, 0},
          {ActKind::Sigmoid, 0, 0},   {ActKind::Tanh, 0, 0},       {ActKind::Silu, 0, 0},
          {ActKind::Hardswish, 0, 0}, {ActKind::Gelu, 0, 0},       {ActKind::GeluTanh, 0, 0}};
}

bool applies(const Case& c, Isa isa) {
  return c.algo != Algorithm::Winograd || winograd_applies(c.p, isa);
}

// Whether the plan at `threads` does what the case is for (false: the case
// lost its purpose, e.g. after a planner change).
bool exercises(const Case& c, const ConvLayer& layer, Isa isa, int threads) {
  const Plan pl = layer.plan(c.s, threads);
  const IsaKernels& k = *kernels_for(isa);
  switch (c.expect) {
    case Expect::Nothing: return true;
    case Expect::SharedB: return threads == 1 || pl.g.shared_b;
    case Expect::BInPlace: return k.gemm->fn_ldb == nullptr || pl.g.b_in_place;
    case Expect::DwInPlace:
      return dw_in_place_kernel(*k.direct, c.p.kernel_h, c.p.stride_h) == nullptr ||
             pl.dp.dw_in_place != nullptr;
    case Expect::GemmFallback: return pl.gemm_fallback;
    case Expect::TransposedGemm: return pl.algorithm == Algorithm::TransposedGemm;
  }
  return false;
}

struct Data {
  std::vector<float> x, w, b, r, conv;  // conv: the reference, in double, rounded once
  double magnitude = 0;                 // bound on the sum of |terms| of one output
};

Data make_data(const Case& c, std::mt19937& rng) {
  const LayerParams& p = c.p;
  const OutputSize o = output_size(p, c.s);
  const size_t out_n = size_t(c.s.batch * p.out_channels * o.height * o.width);
  Data d;
  d.x = test::random_vector(size_t(c.s.batch * p.in_channels * c.s.height * c.s.width), rng);
  // weights of about 2/sqrt(K): pre-activations of order 1, where the
  // activations bend (|x| <= 1, so a K-term sum stays below 2 sqrt(K) + 1)
  const double k = double(p.reduction());
  const float ws = float(2 / std::sqrt(k));
  d.w = test::random_vector(size_t(p.weight_elements()), rng, -ws, ws);
  d.b = test::random_vector(size_t(p.out_channels), rng);
  d.r = test::random_vector(out_n, rng, -2, 2);
  d.conv.resize(out_n);
  if (p.transposed)
    reference_conv_transpose2d(p, c.s, d.x.data(), d.w.data(), d.b.data(), d.conv.data());
  else
    reference_conv2d(p, c.s, d.x.data(), d.w.data(), d.b.data(), d.conv.data());
  d.magnitude = ws * k + 1;
  return d;
}

// forward() at 1, 2 and 3 threads (the pool's count is restored afterwards).
std::vector<std::vector<float>> run_threads(const ConvLayer& layer, const CallShape& s, const Data& d,
                                            const float* residual) {
  std::vector<std::vector<float>> outs;
  const int saved = get_num_threads();
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    outs.emplace_back(d.conv.size(), std::nanf(""));
    layer.forward(s, d.x.data(), outs.back().data(), residual);
  }
  set_num_threads(saved);
  return outs;
}

// got[i] against act(reference + r) in double: the conv's float error (the
// layer tests' bound, plus the rounding of the residual add) through the
// activation's slope, plus the kernel's own error.
bool matches_reference(const char* what, const Case& c, Isa isa, const Activation& a, const Data& d,
                       const float* residual, const std::vector<float>& got) {
  const double eps = 1.1920929e-7, k = double(c.p.reduction()) + 1;
  for (size_t i = 0; i < got.size(); ++i) {
    const double r = residual != nullptr ? double(residual[i]) : 0.0;
    const double pre = double(d.conv[i]) + r;
    const double want = test::act::reference(a, pre);
    const double pre_tol = 4 * eps * (std::sqrt(k) + 2) * d.magnitude + 2 * eps * (std::fabs(pre) + std::fabs(r));
    const double tol = test::act::lipschitz(a) * pre_tol + test::act::kernel_tol(a, pre, want);
    if (!(std::fabs(double(got[i]) - want) <= tol)) {
      CHECK(false, "%s %s isa=%s act=%s residual=%d: elem %zu got %.9g want %.9g (pre-activation %.9g, tol %.3g)",
            what, c.name, isa_name(isa), act_kind_name(a.kind), residual != nullptr, i, got[i], want, pre, tol);
      return false;
    }
  }
  return true;
}

int check_case(const Case& c, Isa isa, std::mt19937& rng) {
  const Data d = make_data(c, rng);
  const ConvLayer plain(c.p, d.w.data(), d.b.data(), isa, c.algo);
  CHECK(exercises(c, plain, isa, 2), "%s isa=%s: the plan does not take the path the case is for", c.name,
        isa_name(isa));
  std::vector<float> before(d.conv.size(), std::nanf(""));
  plain.forward(c.s, d.x.data(), before.data());
  int checked = 0;
  for (const Activation& a : activations()) {
    const ConvLayer layer(c.p, d.w.data(), d.b.data(), a, isa, c.algo);
    for (const float* residual : {static_cast<const float*>(nullptr), d.r.data()}) {
      const auto outs = run_threads(layer, c.s, d, residual);
      for (size_t t = 1; t < outs.size(); ++t)
        CHECK(std::memcmp(outs[0].data(), outs[t].data(), outs[0].size() * 4) == 0,
              "%s isa=%s act=%s residual=%d: 1 and %zu threads differ", c.name, isa_name(isa),
              act_kind_name(a.kind), residual != nullptr, t + 1);
      matches_reference("vs reference:", c, isa, a, d, residual, outs[0]);
      // Exact where the activation is exact: the epilogue ran once per element.
      if (a.kind == ActKind::None && residual == nullptr)
        CHECK(std::memcmp(outs[0].data(), before.data(), before.size() * 4) == 0,
              "%s isa=%s: act none, no residual: differs from the layer without an epilogue", c.name, isa_name(isa));
      if ((a.kind == ActKind::None || a.kind == ActKind::Relu) && residual != nullptr)
        for (size_t i = 0; i < before.size(); ++i) {
          const float sum = before[i] + residual[i];
          const float want = a.kind == ActKind::None ? sum : sum > 0 ? sum : 0.0f;
          if (!(outs[0][i] == want)) {
            CHECK(false, "%s isa=%s act=%s: elem %zu got %.9g, want exactly %.9g", c.name, isa_name(isa),
                  act_kind_name(a.kind), i, outs[0][i], want);
            break;
          }
        }
      ++checked;
    }
  }
  // An in-place residual add: the output buffer holds the residual.
  const Activation gelu{ActKind::Gelu, 0, 0};
  const ConvLayer layer(c.p, d.w.data(), d.b.data(), gelu, isa, c.algo);
  std::vector<float> want(d.conv.size()), aliased(d.r);
  layer.forward(c.s, d.x.data(), want.data(), d.r.data());
  layer.forward(c.s, d.x.data(), aliased.data(), aliased.data());
  CHECK(std::memcmp(want.data(), aliased.data(), want.size() * 4) == 0,
        "%s isa=%s: a residual aliasing the output must give the non-aliased result", c.name, isa_name(isa));
  return checked;
}

void check_refused() {
  const LayerParams p = test::layer(2, 3, 3, 3, 1, 1, 1, 1);
  const std::vector<float> w(size_t(p.weight_elements()), 0.5f);
  const Activation bad[] = {{ActKind::Hardtanh, 1.0f, -1.0f},
                            {ActKind::LeakyRelu, std::nanf(""), 0},
                            {ActKind::Elu, INFINITY, 0},
                            {ActKind(99), 0, 0}};
  for (const Activation& a : bad) {
    bool refused = false;
    try {
      ConvLayer l(p, w.data(), nullptr, a);
    } catch (const std::invalid_argument&) {
      refused = true;
    }
    CHECK(refused, "activation kind %d alpha %g beta %g must be refused", int(a.kind), a.alpha, a.beta);
  }
  const ConvLayer ok(p, w.data(), nullptr, Activation{ActKind::Hardtanh, -2.0f, -2.0f});
  CHECK(ok.activation().kind == ActKind::Hardtanh && ok.activation().alpha == -2.0f,
        "the layer keeps its activation");
}

// Tuning measures and picks algorithms; the activation stays the layer's,
// in the tuned choice and in a layer that adopts it (new weights).
void check_tuned_keeps_activation(std::mt19937& rng) {
  const Case c{"tuned", test::layer(8, 12, 3, 3, 1, 1, 1, 1), {1, 9, 10}, Algorithm::Gemm, Expect::Nothing};
  const Data d = make_data(c, rng);
  const Activation a{ActKind::Hardswish, 0, 0};
  ConvLayer layer(c.p, d.w.data(), d.b.data(), a);
  layer.make_tunable(d.w.data());
  TuneOptions o;
  o.repetitions = 1;
  layer.tune(c.s, o);
  ConvLayer next(c.p, d.w.data(), d.b.data(), a);
  next.make_tunable(d.w.data());
  next.adopt_tuning(layer);
  CHECK(layer.tuned(c.s, get_num_threads()) && next.tuned(c.s, get_num_threads()), "tuning did not take");
  for (const ConvLayer* l : {&layer, &next}) {
    std::vector<float> got(d.conv.size(), std::nanf(""));
    l->forward(c.s, d.x.data(), got.data(), d.r.data());
    matches_reference("tuned:", c, l->isa(), a, d, d.r.data(), got);
  }
}

}  // namespace

int main() {
  std::mt19937 rng(13);
  const GemmKernel* kernels[8];
  const int nk = runnable_gemm_kernels(kernels, 8);
  int checked = 0, skipped = 0;
  for (int ki = 0; ki < nk; ++ki) {
    const Isa isa = kernels[ki]->isa;
    CHECK(kernels_for(isa)->act != nullptr, "ISA %s has no activation kernel", isa_name(isa));
    for (const Case& c : cases()) {
      if (!applies(c, isa)) {
        ++skipped;
        continue;
      }
      checked += check_case(c, isa, rng);
    }
  }
  check_refused();
  check_tuned_keeps_activation(rng);
  std::printf("checked %d (layer, ISA, activation, residual) combinations over %d ISAs (%d Winograd cases "
              "skipped where the ISA has no Winograd kernels)\n", checked, nk, skipped);
  CHECK(checked >= 24 * 13, "too few combinations checked: %d", checked);
  return test::finish("test_epilogue");
}
