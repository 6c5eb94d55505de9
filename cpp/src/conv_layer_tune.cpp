// ConvLayer's measured tuning (conv_layer.h, tune.h): time each candidate
// algorithm's plan for one input shape on this CPU and keep the fastest.
// The candidates run the same drivers as forward(), on weights prepared
// from the raw weights the layer keeps once it is tunable.
#include <algorithm>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>

#include "layer_tuning.h"
#include "simdconv/checked_math.h"
#include "simdconv/thread_pool.h"

namespace simdconv {

void ConvLayer::make_tunable(const float* weight) {
  if (tuning_ == nullptr)
    tuning_.reset(new Tuning(std::vector<float>(weight, weight + p_.weight_elements())));
}

namespace {

// Median wall time of `reps` calls of fn, after one warm-up call (which
// also grows the per-thread scratch to its size for this plan).
template <class F>
double median_ms(int reps, F&& fn) {
  fn();
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return reps % 2 == 1 ? ms[size_t(reps / 2)] : (ms[size_t(reps / 2 - 1)] + ms[size_t(reps / 2)]) / 2;
}

}  // namespace

TuneResult ConvLayer::tune(const CallShape& s, const TuneOptions& o) const {
  if (tuning_ == nullptr)
    throw std::logic_error("tune: the layer keeps no raw weights (make_tunable was not called)");
  if (o.repetitions < 1 || o.repetitions > 1000)
    throw std::invalid_argument("tune: repetitions must be in [1, 1000], got " +
                                std::to_string(o.repetitions));
  const int threads = std::max(1, get_num_threads());
  const std::vector<Algorithm> all = candidate_algorithms(p_, isa());
  std::vector<Algorithm> cands;
  for (Algorithm a : o.only.empty() ? all : o.only) {
    if (std::find(all.begin(), all.end(), a) == all.end())
      throw std::invalid_argument(std::string("tune: algorithm '") + algorithm_name(a) +
                                  "' does not apply to this layer on " + isa_name(isa()));
    if (std::find(cands.begin(), cands.end(), a) == cands.end()) cands.push_back(a);
  }
  // Plan every candidate before allocating anything (a call the layer
  // cannot run throws here, as forward() would). A candidate whose plan
  // falls back to the GEMM (plan.h: gemm_fallback) is the GEMM, slower by
  // a packing pass: it is measured only when the GEMM is not a candidate.
  const bool gemm_candidate = std::find(cands.begin(), cands.end(), Algorithm::Gemm) != cands.end();
  std::vector<std::pair<Algorithm, Plan>> plans;
  std::exception_ptr refused;  // a candidate whose sizes are beyond the library
  for (Algorithm a : cands) {
    try {
      Plan pl = plan_conv(p_, a, s, threads, *kernels_);
      if (pl.gemm_fallback && gemm_candidate) continue;
      plans.emplace_back(a, pl);
    } catch (const std::length_error&) {
      if (!refused) refused = std::current_exception();
    }
  }
  if (plans.empty()) std::rethrow_exception(refused);
  const OutputSize out = plans.front().second.out;
  const int64_t n_in = checked_product({s.batch, p_.in_channels, s.height, s.width}, "tune: input");
  const int64_t n_out = checked_product({s.batch, p_.out_channels, out.height, out.width}, "tune: output");
  // The values do not change the work; a fixed non-zero pattern.
  std::vector<float> input(static_cast<size_t>(n_in));
  std::vector<float> output(static_cast<size_t>(n_out));
  for (int64_t i = 0; i < n_in; ++i) input[size_t(i)] = float(int64_t(i * 7919 % 2001) - 1000) / 1000.0f;

  TuneResult r;
  r.threads = threads;
  double best = 0;
  const Plan* best_plan = nullptr;
  Algorithm best_layer_algo = algo_;
  for (const auto& c : plans) {
    const Algorithm a = c.first;
    if (a != algo_ && tuning_->find(a) == nullptr)
      tuning_->add(a, std::unique_ptr<const Weights>(
                          new Weights(prepare_weights(p_, a, tuning_->raw.data(), *kernels_))));
    const double ms = median_ms(o.repetitions, [&] { run(c.second, input.data(), output.data(), nullptr, {}); });
    r.measured.push_back(TuneResult::Measured{c.second.algorithm, ms});
    if (best_plan == nullptr || ms < best) best = ms, best_plan = &c.second, best_layer_algo = a;
  }
  r.chosen = best_plan->algorithm;
  tuning_->choose(s, threads, best_layer_algo);
  remember_plan(*best_plan);
  return r;
}

bool ConvLayer::tuned(const CallShape& s, int threads) const {
  Algorithm unused;
  return tuning_ != nullptr && tuning_->choice(s, std::max(1, threads), &unused);
}

void ConvLayer::adopt_tuning(const ConvLayer& other) {
  if (tuning_ == nullptr || other.tuning_ == nullptr || &other == this) return;
  for (const Tuning::Choice& c : other.tuning_->all_choices()) {
    if (c.algorithm != algo_ && tuning_->find(c.algorithm) == nullptr)
      tuning_->add(c.algorithm, std::unique_ptr<const Weights>(new Weights(
                                    prepare_weights(p_, c.algorithm, tuning_->raw.data(), *kernels_))));
    tuning_->choose(c.shape, c.threads, c.algorithm);
  }
}

}  // namespace simdconv
