// The drivers: each runs one algorithm's Plan over the thread pool and
// decides nothing (every choice is in the Plan, src/plan/plan.cpp). Shared
// here: the per-thread scratch, the cost counters, the cancel check.
#pragma once
#include <cstdint>
#include <vector>

#include "simdconv/conv_layer.h"
#include "simdconv/epilogue.h"
#include "simdconv/pack.h"
#include "simdconv/plan.h"

namespace simdconv {
namespace drivers {

// The inputs every driver reads besides its Plan.
struct Call {
  const LayerParams& p;
  const float* bias;  // [Cout] or nullptr
  const float* input;
  float* output;
  CancelFlag cancel;
  // The fused epilogue (epilogue.h) and the ISA's kernel for it; act may be
  // nullptr only while !ep.active().
  Epilogue ep = {};
  const ActivationKernel* act = nullptr;
};

void run_gemm(const Plan& plan, const Call& c, const PackedWeights& packed);
// Dense, grouped and depthwise; weight in PyTorch's layout.
void run_direct(const Plan& plan, const Call& c, const float* weight);
// ConvTranspose2d; weight in PyTorch's layout [Cin, Cout/groups, kH, kW].
void run_transposed(const Plan& plan, const Call& c, const float* weight);
// u: the 16 packed U = G g G^T matrices.
void run_winograd(const Plan& plan, const Call& c, const std::vector<PackedWeights>& u);

// ---- shared by the drivers ----
// The fused epilogue (drivers/epilogue.cpp) on a region of the output whose values
// are final (every K block accumulated, bias added): `rows` rows of `cols`
// elements, row r starting at y + r * row_stride, its elements col_step
// apart (> 1 only for a dilated Winograd phase). The residual is read at the
// same offsets from c.output. Callers test c.ep.active() first, so a call
// without an epilogue costs nothing. Each element must be passed exactly
// once per call.
void apply_epilogue(const Call& c, float* y, int64_t rows, int64_t cols, int64_t row_stride,
                    int64_t col_step = 1);
// (scratch.cpp)
void count_tasks(int64_t n);
void note_last_run(Algorithm a);
// Per-thread scratch of at least `elements` floats, grown on demand and
// reused across calls; a task that takes it holds a ScratchTrim.
float* scratch(int64_t elements);
// The GEMM's shared B buffer, owned by the calling thread.
float* shared_scratch(int64_t elements);
std::vector<float>& scratch_buffer();

// Releases a per-thread buffer that grew past kKeepScratchFloats (in bytes:
// 4 per float) when the scope ends, normally or by an exception (cancel),
// so that one call on a very wide image does not pin that memory in every
// pool thread for the life of the process.
template <class T>
struct TrimOnExit {
  std::vector<T>& buf;
  ~TrimOnExit() {
    if (int64_t(buf.capacity() * sizeof(T)) > kKeepScratchFloats * int64_t(sizeof(float)))
      std::vector<T>().swap(buf);
  }
};
// The task-local form: every parallel_for task that takes scratch() holds one.
struct ScratchTrim : TrimOnExit<float> {
  ScratchTrim() : TrimOnExit<float>{scratch_buffer()} {}
};

inline void check_cancel(CancelFlag c) {
  if (c.is_set()) throw Cancelled();
}

}  // namespace drivers
}  // namespace simdconv
