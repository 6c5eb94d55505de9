// The GEMM microkernel contract shared by every ISA (BLIS style).
//
// A tile of C (mr <= MR rows = output channels, nr <= NR columns = output
// pixels) is computed from a packed A micro-panel (kc x MR, k-major: the MR
// weights of step k are contiguous) and a packed B micro-panel (kc x NR, k-major).
//   accumulate == false:  C  = A*B        accumulate == true:  C += A*B
//   bias != nullptr:      C += bias[0..mr)   (given on the last K block only)
// Rows/columns past mr/nr are padding in the panels and are never stored.
// Each C element is accumulated over k in increasing order by one FMA chain,
// so results do not depend on where a tile sits or on the thread count.
#pragma once
#include <cstddef>
#include <cstdint>
#include "simdconv/isa.h"

namespace simdconv {

using GemmUkernelFn = void (*)(size_t kc, const float* a, const float* b, float* c,
                               size_t ldc, size_t mr, size_t nr, bool accumulate,
                               const float* bias);

// Optional narrow-tile kernel, vectorised along the rows instead of the
// columns: C[0..rows) x [0..nr) (nr <= tail_nr) from up to tail_panels A
// micro-panels (panel i at a + i*a_stride, rows i*MR ..) and one B micro-panel
// (kc x NR, only the first nr columns read). Same contract and the same FMA
// chain per C element as fn, so it may replace fn on any tile it fits.
using GemmTailFn = void (*)(size_t kc, const float* a, size_t a_stride, size_t panels,
                            const float* b, float* c, size_t ldc, size_t rows, size_t nr,
                            bool accumulate, const float* bias);

// Optional: the same tile with B read in place from a row-major matrix
// (element (k, j) at b[k*ldb + j]; only columns j < nr are read), for layers
// whose B needs no packing (1x1, stride 1, no padding: B is the input itself).
// Same FMA chain per C element as fn.
using GemmUkernelLdbFn = void (*)(size_t kc, const float* a, const float* b, size_t ldb, float* c,
                                  size_t ldc, size_t mr, size_t nr, bool accumulate,
                                  const float* bias);

struct LayerParams;
struct Im2colSource;
// Packs B for this kernel's NR (the layout is described in pack.h),
// micro-panel j at dst + j*panel_stride (>= kc_len*NR); built with the
// kernel's ISA flags.
using PackIm2colFn = void (*)(const LayerParams& p, const Im2colSource& src, int64_t k0,
                              int64_t kc_len, int64_t p0, int64_t np, int64_t panel_stride,
                              float* dst);

// Blocking sizes for one ISA live here, next to its microkernel (one table per ISA).
struct GemmKernel {
  Isa isa;
  const char* name;  // e.g. "f32-gemm-6x16-avx2"
  size_t mr, nr;     // register tile
  size_t kc;         // K block: A and B micro-panels of this depth stay in L1/L2
  size_t nc;         // pixels per packed B block (multiple of nr), sized for L2
  GemmUkernelFn fn;
  PackIm2colFn pack = nullptr;  // required: packs B for this kernel's NR
  GemmTailFn tail = nullptr;    // nullptr: fn runs every tile
  size_t tail_nr = 0, tail_panels = 0;
  GemmUkernelLdbFn fn_ldb = nullptr;  // nullptr: B is always packed
  size_t kc_ldb = 0;  // K sub-block for fn_ldb (divides kc): a strided B tile's rows stay in L1
};

// kernels_for(isa)->gemm (kernels.h), or nullptr if the ISA is not compiled in.
const GemmKernel* gemm_kernel_for(Isa isa);

// All kernels compiled in that this CPU can run, scalar first (for tests).
int runnable_gemm_kernels(const GemmKernel** out, int max);

// Per-ISA entry points (defined in src/kernels/, each compiled with its own flags).
extern const GemmKernel kGemmScalar;
#if defined(SIMDCONV_HAVE_AVX2)
extern const GemmKernel kGemmAvx2;
#endif
#if defined(SIMDCONV_HAVE_AVX512)
extern const GemmKernel kGemmAvx512;
#endif
#if defined(SIMDCONV_HAVE_NEON)
extern const GemmKernel kGemmNeon;
#endif

}  // namespace simdconv
