// A Conv2d layer ready to run: the algorithm is chosen and the weights are
// prepared for it once, at construction (as MLAS and oneDNN do); forward()
// plans the call (plan.h: one Plan per input shape and thread count,
// cached) and runs the Plan's driver.
#pragma once
#include <cstdint>
#include <memory>
#include <variant>
#include <vector>
#include "simdconv/conv_params.h"
#include "simdconv/epilogue.h"
#include "simdconv/isa.h"
#include "simdconv/kernels.h"
#include "simdconv/pack.h"
#include "simdconv/plan.h"
#include "simdconv/tune.h"

namespace simdconv {

// Polled between work items; either flag set makes forward() throw Cancelled
// (the binding passes the caller's AbortSignal flag and its own shutdown flag).
struct CancelFlag {
  const volatile int32_t* flag = nullptr;
  const volatile int32_t* also = nullptr;
  bool is_set() const { return (flag != nullptr && *flag != 0) || (also != nullptr && *also != 0); }
};
struct Cancelled : std::exception {
  const char* what() const noexcept override { return "operation was aborted"; }
};

class ConvLayer {
 public:
  // weight [Cout, Cin/groups, kH, kW] and bias [Cout] (or null) are copied.
  // Throws std::invalid_argument for an invalid layer.
  ConvLayer(const LayerParams& p, const float* weight, const float* bias,
            Isa isa = active_isa());
  // Same, with the algorithm forced (tests, benchmarks). Every algorithm runs
  // every layer except Depthwise, which needs in_per_group() == 1.
  ConvLayer(const LayerParams& p, const float* weight, const float* bias, Isa isa,
            Algorithm algo);
  // The same with a fused activation (epilogue.h): forward() computes
  // act(conv(x) + bias + residual). The constructors above build act None.
  // Throws std::invalid_argument for an unknown kind or bad parameters
  // (non-finite alpha/beta, hardtanh min > max). The activation does not
  // change the plan: a layer's plans and tuned choices are those of the same
  // layer without it.
  ConvLayer(const LayerParams& p, const float* weight, const float* bias, const Activation& act,
            Isa isa = active_isa());
  ConvLayer(const LayerParams& p, const float* weight, const float* bias, const Activation& act,
            Isa isa, Algorithm algo);

  ConvLayer(ConvLayer&&) noexcept;
  ~ConvLayer();

  const LayerParams& params() const { return p_; }
  Algorithm algorithm() const { return algo_; }
  Isa isa() const { return kernels_->isa; }
  const Activation& activation() const { return act_; }

  // The plan forward() runs for this input shape at this many threads (by
  // default the pool's current count), from the layer's cache (planned on
  // a miss). Const and thread-safe. Throws as forward() does for a call the
  // layer cannot run.
  Plan plan(const CallShape& s) const;
  Plan plan(const CallShape& s, int threads) const;

  // input [N, Cin, H, W] -> output [N, Cout, Hout, Wout]. Const and thread-safe.
  // Throws std::invalid_argument for a call the layer cannot run,
  // std::length_error when a size is beyond what the library handles.
  void forward(const CallShape& s, const float* input, float* output,
               CancelFlag cancel = {}) const;
  // The same, adding `residual` (the output's layout and size, or nullptr)
  // before the activation. residual may overlap output (an in-place
  // residual add): it is then copied first, so the result is as if it did
  // not.
  void forward(const CallShape& s, const float* input, float* output, const float* residual,
               CancelFlag cancel = {}) const;

  // Plans kept per layer: the most recently used input shapes and thread counts.
  static constexpr size_t kPlanCacheSize = 32;

  // Opt-in measured tuning (tune.h). make_tunable() keeps a copy of
  // `weight`, which must be the weights the layer was built with, so that
  // tune() can prepare them for each candidate algorithm (done by the
  // constructor under SIMDCONV_TUNE=1). Not thread-safe: call it before
  // sharing the layer.
  void make_tunable(const float* weight);
  bool tunable() const { return tuning_ != nullptr; }
  // Times each candidate's plan for this input shape at the pool's current
  // thread count (one warm-up run, then o.repetitions runs, median) and
  // keeps the fastest: later plan()/forward() calls of that shape and
  // thread count run it. Const and thread-safe (tuning state is a cache,
  // like the plans). Throws std::logic_error when the layer is not
  // tunable, otherwise as forward() does.
  TuneResult tune(const CallShape& s, const TuneOptions& o = {}) const;
  // Takes over the tuned choices of `other` (a layer with the same params,
  // typically the one whose weights this one replaces), preparing this
  // layer's weights for them: replacing the weights keeps what tuning chose
  // for each shape (timings do not depend on the weights' values). No-op
  // unless both layers are tunable.
  void adopt_tuning(const ConvLayer& other);
  // Whether plan(s, threads) runs a tuned choice.
  bool tuned(const CallShape& s, int threads) const;

 private:
  // The weights in the form the layer's algorithm reads: one of these.
  struct GemmWeights {
    PackedWeights packed;
  };
  struct DirectWeights {
    std::vector<float> raw;  // PyTorch's layout
  };
  struct WinogradWeights {
    std::vector<PackedWeights> u;  // U = G g G^T as 16 packed [Cout x Cin] matrices
    // PyTorch's layout, only when keeps_raw_weights(): the calls whose phase
    // rows would outgrow the output run on the GEMM (plan.h: gemm_fallback),
    // packing these for that call.
    std::vector<float> raw;
  };
  using Weights = std::variant<GemmWeights, DirectWeights, WinogradWeights>;
  struct PlanCache;
  struct Tuning;  // src/layer_tuning.h

  static Weights prepare_weights(const LayerParams& p, Algorithm algo, const float* weight,
                                 const IsaKernels& k);
  // The weights prepared for `algo`: the layer's own, or a tuned candidate's.
  const Weights& weights_for(Algorithm algo) const;
  void run(const Plan& pl, const float* input, float* output, const float* residual,
           CancelFlag cancel) const;
  void remember_plan(const Plan& pl) const;  // replaces the cached plan of its shape and threads

  LayerParams p_;
  const IsaKernels* kernels_;
  Algorithm algo_;
  Activation act_;
  Weights weights_;
  std::vector<float> bias_;
  std::unique_ptr<PlanCache> plans_;
  std::unique_ptr<Tuning> tuning_;  // null unless make_tunable()
};

// Cost counters, for tests that bound a call's work and memory by its
// output (process-wide, since the last reset; relaxed atomics, not for
// production decisions).
struct CostCounters {
  int64_t tasks = 0;          // work items forward() handed to parallel_for
  int64_t scratch_peak = 0;   // most per-thread scratch one task asked for, in floats
  Algorithm last_run = Algorithm::Gemm;  // the algorithm the last forward() ran
};
CostCounters cost_counters();
void reset_cost_counters();
// Floats of forward() scratch the calling thread still holds after its calls:
// buffers above kKeepScratchFloats are released at the end of each task.
int64_t retained_scratch_floats();
constexpr int64_t kKeepScratchFloats = int64_t(2) << 20;  // 8 MiB

}  // namespace simdconv
