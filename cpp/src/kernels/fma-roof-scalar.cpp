// The roof of the scalar kernels: built without ISA flags and with
// -ffp-contract=off like them, so a*b+c stays a multiply and an add; GCC/Clang
// 4-lane loops the compiler vectorises to the baseline 128-bit vectors
// (SSE2 / NEON), as it does in the scalar kernels.
#include "fma-roof-inl.h"

namespace simdconv {
namespace {
struct ScalarOps {
  struct V { float x[4]; };
  static constexpr int kLanes = 4;
  static V set1(float x) { return V{{x, x, x, x}}; }
  static V fma(V a, V b, V c) {
    for (int i = 0; i < 4; ++i) a.x[i] = a.x[i] * b.x[i] + c.x[i];
    return a;
  }
  static V add(V a, V b) {
    for (int i = 0; i < 4; ++i) a.x[i] += b.x[i];
    return a;
  }
  static float first(V a) { return a.x[0]; }
};
}  // namespace

double fma_roof_scalar(long iters) { return fma_roof_loop<ScalarOps>(iters); }

}  // namespace simdconv
