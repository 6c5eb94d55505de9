// The planner's per-algorithm steps that live in their own files
// (src/plan/), called by plan_conv in plan.cpp.
#pragma once
#include "simdconv/plan.h"

namespace simdconv {

// Fills pl.tg, the task count and the workspace of a call that
// transposed_gemm_pays() sends to the transposed GEMM.
void plan_transposed_gemm(Plan& pl, const LayerParams& p);

}  // namespace simdconv
