// ConvLayer: prepares the weights for the layer's algorithm once, then per
// call takes the Plan for the input shape and thread count (cached; planned
// by plan_conv on a miss) and hands it to that algorithm's driver.
#include "simdconv/conv_layer.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>

#include "drivers/drivers.h"
#include "layer_tuning.h"
#include "simdconv/thread_pool.h"

namespace simdconv {

// The most recently used plans of one layer. forward() is const and runs
// concurrently (the binding's async runner and sync calls), so the cache is
// guarded; a plan is copied out under the lock and run outside it. The key
// includes the thread count: a plan's split is made for one count.
struct ConvLayer::PlanCache {
  struct Entry {
    CallShape shape;
    int threads;
    Plan plan;
    uint64_t used;
  };
  std::mutex mu;
  std::vector<Entry> entries;
  uint64_t clock = 0;

  static bool same(const Entry& e, const CallShape& s, int threads) {
    return e.threads == threads && e.shape.batch == s.batch && e.shape.height == s.height &&
           e.shape.width == s.width;
  }
  bool find(const CallShape& s, int threads, Plan* out) {
    std::lock_guard<std::mutex> lock(mu);
    for (Entry& e : entries)
      if (same(e, s, threads)) {
        e.used = ++clock;
        *out = e.plan;
        return true;
      }
    return false;
  }
  void insert(const CallShape& s, int threads, const Plan& plan) {
    std::lock_guard<std::mutex> lock(mu);
    for (const Entry& e : entries)
      if (same(e, s, threads)) return;  // another thread planned it meanwhile
    Entry fresh{s, threads, plan, ++clock};
    if (entries.size() < kPlanCacheSize) {
      entries.push_back(fresh);
      return;
    }
    // full: replace the least recently used
    *std::min_element(entries.begin(), entries.end(),
                      [](const Entry& a, const Entry& b) { return a.used < b.used; }) = fresh;
  }
  // tune(): its plan replaces whatever was planned for the shape before.
  void assign(const Plan& plan) {
    {
      std::lock_guard<std::mutex> lock(mu);
      for (Entry& e : entries)
        if (same(e, plan.shape, plan.threads)) {
          e.plan = plan;
          e.used = ++clock;
          return;
        }
    }
    insert(plan.shape, plan.threads, plan);
  }
};

namespace {

// The activation's kind and parameters as PyTorch accepts them (F.hardtanh
// refuses min_val > max_val; every parameter is a finite float).
void validate_activation(const Activation& a) {
  ActKind known;  // the name table lists every kind
  if (!parse_act_kind(act_kind_name(a.kind), &known))
    throw std::invalid_argument("unknown activation kind " + std::to_string(int(a.kind)));
  if (!std::isfinite(a.alpha) || !std::isfinite(a.beta))
    throw std::invalid_argument(std::string("activation ") + act_kind_name(a.kind) +
                                ": parameters must be finite, got alpha=" + std::to_string(a.alpha) +
                                " beta=" + std::to_string(a.beta));
  if (a.kind == ActKind::Hardtanh && a.alpha > a.beta)
    throw std::invalid_argument("activation hardtanh: min_val (" + std::to_string(a.alpha) +
                                ") must not be greater than max_val (" + std::to_string(a.beta) + ")");
}

}  // namespace

ConvLayer::ConvLayer(const LayerParams& p, const float* weight, const float* bias, Isa isa)
    : ConvLayer(p, weight, bias, Activation{}, isa) {}

ConvLayer::ConvLayer(const LayerParams& p, const float* weight, const float* bias, Isa isa,
                     Algorithm algo)
    : ConvLayer(p, weight, bias, Activation{}, isa, algo) {}

ConvLayer::ConvLayer(const LayerParams& p, const float* weight, const float* bias,
                     const Activation& act, Isa isa)
    : ConvLayer(p, weight, bias, act, isa, (p.validate(), choose_algorithm(p, isa))) {}

ConvLayer::ConvLayer(const LayerParams& p, const float* weight, const float* bias,
                     const Activation& act, Isa isa, Algorithm algo)
    : p_(p), kernels_(kernels_for(isa)), algo_(algo), act_(act), plans_(new PlanCache) {
  p_.validate();
  validate_activation(act_);
  if (algo_ == Algorithm::Depthwise && p_.in_per_group() != 1)
    throw std::invalid_argument("the depthwise algorithm needs one input channel per group");
  if (algo_ != Algorithm::Gemm && algo_ != Algorithm::Depthwise &&
      algo_ != Algorithm::GroupedDirect && algo_ != Algorithm::Direct &&
      algo_ != Algorithm::Winograd && algo_ != Algorithm::TransposedDirect)
    throw std::invalid_argument("unknown algorithm");
  if ((algo_ == Algorithm::TransposedDirect) != p_.transposed)
    throw std::invalid_argument(p_.transposed ? "a transposed layer runs only on the transposed algorithm"
                                              : "the transposed algorithm runs only a transposed layer");
  if (algo_ == Algorithm::Winograd && !winograd_applies(p_, isa))
    throw std::invalid_argument("the Winograd algorithm needs a 3x3, stride-1, ungrouped layer "
                                "with equal dilations and an ISA with its kernels");
  if (kernels_ == nullptr || !cpu_supports(isa))
    throw std::invalid_argument(std::string("ISA ") + isa_name(isa) + " is not available");
  if (bias) bias_.assign(bias, bias + p_.out_channels);
  weights_ = prepare_weights(p_, algo_, weight, *kernels_);
  if (tune_env_enabled()) make_tunable(weight);
}

ConvLayer::Weights ConvLayer::prepare_weights(const LayerParams& p, Algorithm algo,
                                              const float* weight, const IsaKernels& k) {
  const GemmKernel& gk = *k.gemm;
  switch (algo) {
    case Algorithm::Gemm: return GemmWeights{PackedWeights(p, weight, gk.mr, gk.kc)};
    case Algorithm::Depthwise:
    case Algorithm::GroupedDirect:
    case Algorithm::Direct:
    case Algorithm::TransposedDirect:
      return DirectWeights{std::vector<float>(weight, weight + p.weight_elements())};
    case Algorithm::Winograd: {
      WinogradWeights ww;
      const int64_t C = p.in_channels, M = p.out_channels;
      std::vector<float> u(size_t(16 * M * C));  // [xi*4+nu][o][c]
      float t[16];
      for (int64_t o = 0; o < M; ++o)
        for (int64_t c = 0; c < C; ++c) {
          winograd_weight_transform(weight + (o * C + c) * 9, t);
          for (int e = 0; e < 16; ++e) u[size_t((e * M + o) * C + c)] = t[e];
        }
      LayerParams pw;  // each U matrix packs as a 1x1 layer's weights [M][C]
      pw.in_channels = C;
      pw.out_channels = M;
      ww.u.reserve(16);
      for (int e = 0; e < 16; ++e) ww.u.emplace_back(pw, u.data() + size_t(e * M * C), gk.mr, gk.kc);
      if (keeps_raw_weights(p, algo)) ww.raw.assign(weight, weight + p.weight_elements());
      return ww;
    }
  }
  throw std::invalid_argument("unknown algorithm");
}

ConvLayer::ConvLayer(ConvLayer&&) noexcept = default;
ConvLayer::~ConvLayer() = default;

Plan ConvLayer::plan(const CallShape& s) const { return plan(s, get_num_threads()); }

Plan ConvLayer::plan(const CallShape& s, int threads) const {
  threads = std::max(1, threads);
  Plan pl;
  if (plans_->find(s, threads, &pl)) return pl;
  Algorithm algo = algo_;
  if (tuning_ != nullptr && !tuning_->choice(s, threads, &algo) && tune_env_enabled() &&
      threads == get_num_threads()) {
    // SIMDCONV_TUNE=1: the first call of a new shape measures the candidates.
    tune(s);
    if (plans_->find(s, threads, &pl)) return pl;
    tuning_->choice(s, threads, &algo);  // evicted meanwhile: plan the choice again
  }
  pl = plan_conv(p_, algo, s, threads, *kernels_);
  plans_->insert(s, threads, pl);
  return pl;
}

void ConvLayer::remember_plan(const Plan& pl) const { plans_->assign(pl); }

const ConvLayer::Weights& ConvLayer::weights_for(Algorithm algo) const {
  if (algo == algo_) return weights_;
  const Weights* w = tuning_ != nullptr ? tuning_->find(algo) : nullptr;
  if (w == nullptr)
    throw std::logic_error(std::string("no weights prepared for ") + algorithm_name(algo));
  return *w;
}

void ConvLayer::forward(const CallShape& s, const float* input, float* output,
                        CancelFlag cancel) const {
  run(plan(s), input, output, nullptr, cancel);
}

void ConvLayer::forward(const CallShape& s, const float* input, float* output,
                        const float* residual, CancelFlag cancel) const {
  const Plan pl = plan(s);
  if (residual != nullptr) {
    // The drivers read residual[i] after output[i] is written, so a residual
    // sharing memory with the output is copied first.
    const size_t n = size_t(s.batch * p_.out_channels * pl.out.height * pl.out.width);
    const std::less<const float*> before;
    if (before(residual, output + n) && before(output, residual + n)) {
      const std::vector<float> copy(residual, residual + n);
      run(pl, input, output, copy.data(), cancel);
      return;
    }
  }
  run(pl, input, output, residual, cancel);
}

void ConvLayer::run(const Plan& pl, const float* input, float* output, const float* residual,
                    CancelFlag cancel) const {
  drivers::Call call{p_, bias_.empty() ? nullptr : bias_.data(), input, output, cancel};
  call.ep.act = act_;
  call.ep.residual = residual;
  call.act = kernels_->act;
  if (call.ep.active() && call.act == nullptr)
    throw std::logic_error(std::string("ISA ") + isa_name(kernels_->isa) + " has no activation kernel");
  const Weights& weights = weights_for(pl.layer_algorithm);
  drivers::note_last_run(pl.algorithm);
  if (pl.gemm_fallback) {
    // Packing the raw weights costs one pass over them, less than the call.
    const std::vector<float>& raw = std::holds_alternative<WinogradWeights>(weights)
                                        ? std::get<WinogradWeights>(weights).raw
                                        : std::get<DirectWeights>(weights).raw;
    const PackedWeights packed(p_, raw.data(), pl.gemm->mr, pl.gemm->kc);
    drivers::run_gemm(pl, call, packed);
    return;
  }
  switch (pl.algorithm) {
    case Algorithm::Gemm: drivers::run_gemm(pl, call, std::get<GemmWeights>(weights).packed); break;
    case Algorithm::Depthwise:
    case Algorithm::GroupedDirect:
    case Algorithm::Direct:
      drivers::run_direct(pl, call, std::get<DirectWeights>(weights).raw.data());
      break;
    case Algorithm::Winograd: drivers::run_winograd(pl, call, std::get<WinogradWeights>(weights).u); break;
    case Algorithm::TransposedDirect:
      drivers::run_transposed(pl, call, std::get<DirectWeights>(weights).raw.data());
      break;
  }
}

}  // namespace simdconv
