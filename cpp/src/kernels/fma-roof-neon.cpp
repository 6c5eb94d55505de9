// The FMA roof loop for NEON: 4-lane fmla (fma-roof-inl.h).
#include <arm_neon.h>

#include "fma-roof-inl.h"

namespace simdconv {
namespace {
struct NeonOps {
  using V = float32x4_t;
  static constexpr int kLanes = 4;
  static V set1(float x) { return vdupq_n_f32(x); }
  static V fma(V a, V b, V c) { return vfmaq_f32(c, a, b); }
  static V add(V a, V b) { return vaddq_f32(a, b); }
  static float first(V a) { return vgetq_lane_f32(a, 0); }
};
}  // namespace

double fma_roof_neon(long iters) { return fma_roof_loop<NeonOps>(iters); }

}  // namespace simdconv
