// A Conv2d layer ready to run: the algorithm is chosen and the weights are
// packed once, at construction (as MLAS and oneDNN do); forward() only runs.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>
#include "simdconv/conv_params.h"
#include "simdconv/direct_kernel.h"
#include "simdconv/gemm_kernel.h"
#include "simdconv/isa.h"
#include "simdconv/pack.h"
#include "simdconv/winograd.h"

namespace simdconv {

enum class Algorithm : int {
  Gemm = 0,       // implicit im2col + blocked GEMM (the general path)
  Depthwise = 1,  // direct kernel, one input channel per group
  GroupedDirect = 2,  // direct kernel, a few input and output channels per group (ResNeXt)
  Direct = 3,     // direct kernel on a dense layer (spatial kernel, modest Cin)
  Winograd = 4,   // Winograd F(2x2, 3x3): 3x3, stride 1, ungrouped, equal dilations
};
const char* algorithm_name(Algorithm a);

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

  const LayerParams& params() const { return p_; }
  Algorithm algorithm() const { return algo_; }
  Isa isa() const { return isa_; }

  // input [N, Cin, H, W] -> output [N, Cout, Hout, Wout]. Const and thread-safe.
  // Throws std::invalid_argument for a call the layer cannot run,
  // std::length_error when a size is beyond what the library handles.
  void forward(const CallShape& s, const float* input, float* output,
               CancelFlag cancel = {}) const;

 private:
  void forward_gemm(const CallShape& s, OutputSize o, const float* input, float* output,
                    CancelFlag cancel) const;
  bool forward_gemm_shared(const CallShape& s, OutputSize o, const float* input, float* output,
                           CancelFlag cancel) const;
  void forward_direct(const CallShape& s, OutputSize o, const float* input, float* output,
                      CancelFlag cancel) const;
  void forward_winograd(const CallShape& s, OutputSize o, const float* input, float* output,
                        CancelFlag cancel) const;

  // Whether this call's padded band (direct) or phase rows (Winograd) stay
  // within a constant factor of what its output reads (see conv_layer.cpp).
  bool cost_follows_output(const CallShape& s, OutputSize o) const;

  LayerParams p_;
  Isa isa_;
  Algorithm algo_;
  // PyTorch layout: the direct paths' weights, and a Winograd layer's when
  // its geometry could make its phase rows outgrow the output. A call where
  // cost_follows_output() is false runs on the GEMM (whose work and scratch
  // follow the output whatever the padding, stride and dilation), packing
  // these for that call. Empty for the GEMM (it uses packed_).
  std::vector<float> weight_;
  std::vector<float> bias_;
  const GemmKernel* gemm_ = nullptr;
  // GEMM whose B is the input itself (1x1, stride 1, no padding) and a
  // kernel that reads B in place: no packing pass over the input, on the
  // calls where b_in_place_pays() (conv_layer.cpp) says that is faster.
  bool b_in_place_ = false;
  const DirectKernel* direct_ = nullptr;
  PackedWeights packed_;
  // Winograd: the transforms, and U = G g G^T as 16 packed [Cout x Cin] matrices.
  const WinogradKernel* wino_ = nullptr;
  std::vector<PackedWeights> wino_u_;
};

// Whether the Winograd algorithm can run this layer on this ISA (3x3, stride
// 1, ungrouped, dilation_h == dilation_w, an ISA with Winograd transforms).
bool winograd_applies(const LayerParams& p, Isa isa);

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

// Picks the algorithm for a layer on the active ISA (exposed for tests and `info`).
Algorithm choose_algorithm(const LayerParams& p);
// The same for a given ISA: the dense direct kernel is only chosen where it
// is vectorised (the portable build keeps the GEMM for dense layers).
Algorithm choose_algorithm(const LayerParams& p, Isa isa);

}  // namespace simdconv
