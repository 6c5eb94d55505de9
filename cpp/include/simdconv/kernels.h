// The capability table: for each ISA, which kernel of each family serves it.
// One IsaKernels per ISA, filled by field name in src/kernels/registry.cpp
// (as MLAS's MLAS_PLATFORM and XNNPACK's gemm-config.c); a family an ISA
// lacks stays nullptr, and the planner does not consider the algorithms that
// need it.
#pragma once
#include "simdconv/activation_kernel.h"
#include "simdconv/direct_kernel.h"
#include "simdconv/gemm_kernel.h"
#include "simdconv/isa.h"
#include "simdconv/winograd.h"

namespace simdconv {

struct IsaKernels {
  Isa isa = Isa::Scalar;
  // Every ISA has a GEMM (every layer can run on it) and a direct kernel
  // (the tap loop, the padded-plane copy the Winograd path also uses, and
  // the in-place depthwise kernels).
  const GemmKernel* gemm = nullptr;
  const DirectKernel* direct = nullptr;
  // Winograd F(2x2, 3x3) transforms; nullptr where the ISA has none.
  const WinogradKernel* winograd = nullptr;
  // The fused epilogue's residual add + activation (activation_kernel.h);
  // every ISA has one.
  const ActivationKernel* act = nullptr;
};

// The table of an ISA, or nullptr when the ISA is not compiled into this
// build. Whether the CPU can run it is cpu_supports()'s question.
const IsaKernels* kernels_for(Isa isa);

}  // namespace simdconv
