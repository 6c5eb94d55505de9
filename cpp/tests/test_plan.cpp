// The plan step (plan.h) on its own: for many layers x input shapes x thread
// counts x ISAs x algorithms, a plan's tasks write every output element
// exactly once, the scratch a call takes stays within the plan's workspace
// (and the plan's workspace within the library's bound), the plan's
// algorithm and flags apply to the layer, and the layer's plan cache keys on
// the thread count.
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "layers.h"
#include "simdconv/conv_layer.h"
#include "simdconv/thread_pool.h"

using namespace simdconv;

namespace {

std::string describe(const LayerParams& p, const CallShape& s, const Plan& pl) {
  char b[320];
  std::snprintf(b, sizeof b,
                "%s on %s, %lld->%lld k%lldx%lld s%lldx%lld d%lldx%lld pad %lld/%lld/%lld/%lld g%lld, "
                "input %lldx%lldx%lld, %d threads",
                algorithm_name(pl.algorithm), isa_name(pl.isa), (long long)p.in_channels,
                (long long)p.out_channels, (long long)p.kernel_h, (long long)p.kernel_w,
                (long long)p.stride_h, (long long)p.stride_w, (long long)p.dilation_h,
                (long long)p.dilation_w, (long long)p.pad_top, (long long)p.pad_bottom,
                (long long)p.pad_left, (long long)p.pad_right, (long long)p.groups,
                (long long)s.batch, (long long)s.height, (long long)s.width, pl.threads);
  return b;
}

// Every output element written by exactly one task.
void check_cover(const LayerParams& p, const Plan& pl) {
  const int64_t P = pl.out.height * pl.out.width, C = p.out_channels;
  std::vector<uint8_t> hits(size_t(pl.shape.batch * C * P), 0);
  for (const OutputTile& t : output_tiles(pl, p)) {
    if (t.n < 0 || t.n >= pl.shape.batch || t.c0 < 0 || t.c1 > C || t.c0 >= t.c1) {
      CHECK(false, "tile out of range (n %lld, channels %lld..%lld)", (long long)t.n,
            (long long)t.c0, (long long)t.c1);
      return;
    }
    for (const auto& sp : t.spans) {
      CHECK(sp.first >= 0 && sp.second <= P && sp.first < sp.second, "span %lld..%lld of %lld",
            (long long)sp.first, (long long)sp.second, (long long)P);
      for (int64_t c = t.c0; c < t.c1; ++c)
        for (int64_t q = std::max<int64_t>(0, sp.first); q < std::min(sp.second, P); ++q) {
          uint8_t& h = hits[size_t((t.n * C + c) * P + q)];
          if (h < 255) ++h;
        }
    }
  }
  int64_t zero = 0, many = 0;
  for (uint8_t h : hits) zero += h == 0, many += h > 1;
  CHECK(zero == 0 && many == 0, "%s: %lld elements written by no task, %lld by several",
        describe(p, pl.shape, pl).c_str(), (long long)zero, (long long)many);
}

// The plan's algorithm and flags apply to the layer.
void check_applies(const LayerParams& p, const Plan& pl) {
  const std::string d = describe(p, pl.shape, pl);
  CHECK(pl.algorithm == pl.layer_algorithm || (pl.gemm_fallback && pl.algorithm == Algorithm::Gemm),
        "%s: runs %s for a %s layer without the fallback", d.c_str(), algorithm_name(pl.algorithm),
        algorithm_name(pl.layer_algorithm));
  CHECK(!pl.gemm_fallback || keeps_raw_weights(p, pl.layer_algorithm),
        "%s: falls back to the GEMM without raw weights", d.c_str());
  if (pl.algorithm == Algorithm::Depthwise)
    CHECK(p.in_per_group() == 1, "%s: depthwise with %lld channels per group", d.c_str(),
          (long long)p.in_per_group());
  if (pl.algorithm == Algorithm::Winograd)
    CHECK(winograd_applies(p, pl.isa), "%s: Winograd does not apply", d.c_str());
  if (pl.algorithm == Algorithm::Gemm && pl.g.b_in_place)
    CHECK(p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 &&
              p.pad_top + p.pad_bottom + p.pad_left + p.pad_right == 0 && pl.gemm->fn_ldb,
          "%s: B in place on a layer whose B is not the input", d.c_str());
  if (pl.algorithm == Algorithm::Gemm && pl.g.shared_b)
    CHECK(pl.threads > 1 && !pl.g.b_in_place && pl.g.shared_floats <= kMaxSharedB,
          "%s: shared B of %lld floats", d.c_str(), (long long)pl.g.shared_floats);
  if (pl.algorithm != Algorithm::Gemm && pl.algorithm != Algorithm::Winograd &&
      pl.dp.dw_in_place != nullptr)
    CHECK(p.in_per_group() == 1 && p.kernel_h == p.kernel_w &&
              (p.kernel_h == 3 || p.kernel_h == 5) && p.dilation_h == 1 && p.dilation_w == 1 &&
              p.pad_mode == PadMode::Zeros && p.stride_h == p.stride_w && p.stride_h <= 2 &&
              pl.dp.dw_in_place == dw_in_place_kernel(*pl.direct, p.kernel_h, p.stride_h) &&
              pl.workspace_floats == 0,
          "%s: in-place depthwise on a layer it does not fit", d.c_str());
  CHECK(pl.tasks >= 1, "%s: %lld tasks", d.c_str(), (long long)pl.tasks);
  CHECK(pl.microkernel != nullptr && pl.microkernel[0] != '\0', "%s: no microkernel name", d.c_str());
}

// A call takes no more scratch and runs no more tasks than its plan says,
// and the plan's workspace is within the library's bound.
void check_workspace(const ConvLayer& layer, const CallShape& s, const Plan& pl) {
  const LayerParams& p = layer.params();
  const OutputSize o = pl.out;
  std::vector<float> x(size_t(s.batch * p.in_channels * s.height * s.width), 0.5f);
  std::vector<float> y(size_t(s.batch * p.out_channels * o.height * o.width));
  set_num_threads(pl.threads);
  reset_cost_counters();
  layer.forward(s, x.data(), y.data());
  const CostCounters c = cost_counters();
  const std::string d = describe(p, s, pl);
  const int64_t bound = std::max(pl.workspace_floats, pl.g.shared_b ? pl.g.shared_floats : 0);
  CHECK(c.scratch_peak <= bound, "%s: took %lld scratch floats, plan says %lld", d.c_str(),
        (long long)c.scratch_peak, (long long)bound);
  CHECK(c.tasks == pl.tasks, "%s: ran %lld tasks, plan says %lld", d.c_str(), (long long)c.tasks,
        (long long)pl.tasks);
  CHECK(c.last_run == pl.algorithm, "%s: ran %s", d.c_str(), algorithm_name(c.last_run));
  CHECK(pl.workspace_floats <= kMaxScratch + kDirectSlack, "%s: workspace %lld floats", d.c_str(),
        (long long)pl.workspace_floats);
}

using test::layer;

}  // namespace

int main() {
  std::vector<LayerParams> layers = {
      layer(3, 16, 7, 7, 2, 3, 1, 1),        // stem
      layer(64, 64, 3, 3, 1, 1, 1, 1),       // Winograd where the ISA has it
      layer(48, 40, 3, 3, 1, 2, 2, 1, PadMode::Reflect),  // dilated Winograd: several phases
      layer(64, 96, 1, 1, 1, 0, 1, 1),       // 1x1: B in place
      layer(256, 80, 1, 1, 1, 0, 1, 1),      // wide 1x1: shared B at batch 1
      layer(160, 96, 3, 3, 2, 1, 1, 1),      // deep strided 3x3: GEMM
      layer(32, 32, 3, 3, 1, 1, 1, 32),      // depthwise, in place where the ISA has it
      layer(24, 48, 3, 3, 2, 1, 1, 24),      // depthwise multiplier 2, stride 2
      layer(40, 40, 5, 5, 1, 2, 1, 40, PadMode::Circular),  // depthwise 5x5, padded copy
      layer(24, 24, 5, 5, 2, 2, 1, 24),      // depthwise 5x5 stride 2, in place
      layer(64, 64, 3, 3, 1, 3, 3, 4),       // grouped, dilated
      layer(128, 64, 3, 3, 1, 1, 1, 2, PadMode::Replicate),  // grouped GEMM
      layer(8, 12, 1, 7, 1, 3, 1, 1),        // 1x7
  };
  // huge padding around a small input: the direct / Winograd band would
  // outgrow the output, so the plan falls back to the GEMM
  LayerParams wide = layer(8, 8, 3, 3, 1000, 0, 1, 1);
  wide.pad_left = wide.pad_right = 3000;
  layers.push_back(wide);
  layers.push_back(layer(32, 33, 3, 3, 1, 70, 70, 1));  // Winograd with dilation 70

  const CallShape shapes[] = {{1, 9, 11}, {2, 17, 6}, {1, 30, 33}, {3, 5, 5}};
  const Isa isas[] = {Isa::Scalar, Isa::Neon, Isa::Avx2, Isa::Avx512};
  int plans = 0, fallbacks = 0, shared = 0, in_place = 0, dw_in_place = 0, winograd = 0;
  for (const LayerParams& p : layers) {
    std::mt19937 rng(7);
    const std::vector<float> w = test::random_vector(size_t(p.weight_elements()), rng);
    for (Isa isa : isas) {
      if (kernels_for(isa) == nullptr || !cpu_supports(isa)) continue;
      std::vector<int> algos = {-1, int(Algorithm::Gemm), int(Algorithm::Direct)};
      if (p.groups > 1) algos.push_back(int(Algorithm::GroupedDirect));
      if (p.in_per_group() == 1) algos.push_back(int(Algorithm::Depthwise));
      if (winograd_applies(p, isa)) algos.push_back(int(Algorithm::Winograd));
      for (int a : algos) {
        const ConvLayer l = a < 0 ? ConvLayer(p, w.data(), nullptr, isa)
                                  : ConvLayer(p, w.data(), nullptr, isa, Algorithm(a));
        for (const CallShape& s : shapes) {
          if (test::throws([&] { output_size(p, s); })) continue;
          for (int threads : {1, 2, 3, 5}) {
            const Plan pl = l.plan(s, threads);
            CHECK(pl.threads == threads, "plan for %d threads says %d", threads, pl.threads);
            check_cover(p, pl);
            check_applies(p, pl);
            check_workspace(l, s, pl);
            ++plans;
            fallbacks += pl.gemm_fallback;
            shared += pl.algorithm == Algorithm::Gemm && pl.g.shared_b;
            in_place += pl.algorithm == Algorithm::Gemm && pl.g.b_in_place;
            dw_in_place += pl.algorithm != Algorithm::Gemm && pl.dp.dw_in_place != nullptr;
            winograd += pl.algorithm == Algorithm::Winograd;
          }
        }
      }
    }
  }
  std::printf("%d plans: %d GEMM fallbacks, %d shared B, %d B in place, %d in-place depthwise, %d Winograd\n",
              plans, fallbacks, shared, in_place, dw_in_place, winograd);
  // The suite reaches every kind of plan (the ones the ISA has).
  CHECK(fallbacks > 0 && shared > 0, "fallback and shared-B plans not reached");
  if (winograd_applies(layers[1], active_isa())) CHECK(winograd > 0 && in_place > 0, "no Winograd / in-place plans");

  // The depthwise rule: the ISA's in-place kernel (the capability table's
  // dw<k>s<s>; every SIMD ISA has all four, the scalar build none) for k x k
  // (3, 5) at stride 1 or 2 both ways, dilation 1, zero padding of any size,
  // with no workspace; the padded copy otherwise.
  int dw_rule = 0;
  for (Isa isa : isas) {
    const IsaKernels* k = kernels_for(isa);
    if (k == nullptr) continue;
    for (int64_t ks : {1, 3, 5, 7})
      for (int64_t st : {1, 2, 3})
        for (int64_t pad : {0, 1, 2, 4})
          for (int variant = 0; variant < 4; ++variant) {
            LayerParams p = layer(16, 16, ks, ks, st, pad, variant == 1 ? 2 : 1, 16,
                                  variant == 2 ? PadMode::Reflect : PadMode::Zeros);
            if (variant == 3) p.stride_w = st == 1 ? 2 : 1;  // unequal strides
            const CallShape s{1, 20, 23};
            if (test::throws([&] { output_size(p, s); })) continue;
            const Plan pl = plan_conv(p, Algorithm::Depthwise, s, 1, *k);
            const bool fits = (ks == 3 || ks == 5) && st <= 2 && variant == 0;
            const DwInPlaceFn want = fits ? dw_in_place_kernel(*k->direct, ks, st) : nullptr;
            CHECK(!fits || want != nullptr || isa == Isa::Scalar, "%s has no in-place kernel for %lldx%lld stride %lld",
                  k->direct->name, (long long)ks, (long long)ks, (long long)st);
            CHECK(pl.algorithm != Algorithm::Depthwise || pl.dp.dw_in_place == want,
                  "%s: in-place depthwise %s", describe(p, s, pl).c_str(),
                  want ? "not chosen where it applies" : "chosen where it does not apply");
            CHECK(pl.algorithm != Algorithm::Depthwise || (pl.workspace_floats == 0) == (want != nullptr),
                  "%s: workspace %lld floats", describe(p, s, pl).c_str(), (long long)pl.workspace_floats);
            dw_rule += pl.algorithm == Algorithm::Depthwise && pl.dp.dw_in_place != nullptr;
          }
  }
  CHECK(dw_rule >= 16, "the in-place depthwise rule was reached %d times", dw_rule);

  // The cache: a plan made for one thread count is not reused for another,
  // and a cached plan equals a fresh one.
  {
    const LayerParams p = layers[4];
    std::mt19937 rng(3);
    const std::vector<float> w = test::random_vector(size_t(p.weight_elements()), rng);
    const ConvLayer l(p, w.data(), nullptr);
    const CallShape s{1, 14, 14};
    const Plan one = l.plan(s, 1), two = l.plan(s, 2), one_again = l.plan(s, 1);
    CHECK(one.threads == 1 && two.threads == 2 && one_again.threads == 1, "cache mixed thread counts");
    CHECK(one.tasks == one_again.tasks && one.g.nc == one_again.g.nc, "cached plan differs");
    const Plan fresh = plan_conv(p, l.algorithm(), s, 2, *kernels_for(l.isa()));
    CHECK(fresh.tasks == two.tasks && fresh.g.shared_b == two.g.shared_b && fresh.g.nc == two.g.nc &&
              fresh.workspace_floats == two.workspace_floats,
          "cached plan differs from plan_conv's");
    // More shapes than the cache holds, from several threads at once, while
    // forward() runs: results equal the single-threaded ones.
    const CallShape probe{1, 9, 9};
    const OutputSize o = output_size(p, probe);
    std::vector<float> x(size_t(p.in_channels * 81), 0.25f);
    std::vector<float> want(size_t(p.out_channels * o.height * o.width));
    set_num_threads(1);
    l.forward(probe, x.data(), want.data());
    std::vector<std::thread> ts;
    std::atomic<int> bad{0};
    for (int t = 0; t < 4; ++t)
      ts.emplace_back([&, t] {
        for (int i = 0; i < int(ConvLayer::kPlanCacheSize) + 8; ++i)
          l.plan(CallShape{1 + t, 3 + i, 5}, 1 + i % 3);
        std::vector<float> got(want.size());
        l.forward(probe, x.data(), got.data());
        if (std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) != 0) ++bad;
      });
    for (auto& t : ts) t.join();
    CHECK(bad.load() == 0, "%d concurrent calls differ", bad.load());
  }
  set_num_threads(1);
  return test::finish("test_plan");
}
