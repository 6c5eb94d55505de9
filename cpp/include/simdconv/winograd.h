// Winograd F(2x2, 3x3) for 3x3, stride-1, undilated, ungrouped layers
// (Lavin & Gray 2015): each 2x2 output tile is computed from a 4x4 input
// tile with 16 products per input/output channel pair instead of 36.
//
//   V = B^T d B   (input tile d, 4x4)        B^T = [1  0 -1  0]
//   U = G g G^T   (3x3 kernel g -> 4x4)            [0  1  1  0]
//   M = U . V     (elementwise, summed over         [0 -1  1  0]
//                  input channels: 16 GEMMs)        [0  1  0 -1]
//   Y = A^T M A   (2x2 output)                G  = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]
//                                             A^T = [1 1 1 0; 0 1 -1 -1]
//
// The 16 GEMMs run on the ISA's GEMM microkernel (B read in place, fn_ldb);
// the transforms are per ISA (one file each, like the microkernels).
#pragma once
#include <cstdint>
#include "simdconv/isa.h"

namespace simdconv {

// Input transform of one channel for `rows` tile rows of `tiles_w` tiles.
// band: that channel's padded input rows, split into column phases as the
// direct kernels' pad_plane() writes them with stride 2 (row r at
// band + r*row_stride: even padded columns at [0, wq), odd ones at [wq, 2wq));
// tile (i, tw) reads padded rows 2i..2i+3, columns 2tw..2tw+3. Writes
// V[xi*4+nu] of tile t = i*tiles_w + tw to v[(xi*4+nu)*v_plane + t].
struct WinogradInputArgs {
  const float* band;
  int64_t row_stride, wq, tiles_w, rows;
  float* v;
  int64_t v_plane;
};

// Output transform of one output channel for `rows` tile rows: reads
// M[xi*4+nu] of tile t at m[(xi*4+nu)*m_plane + t], adds the bias and writes
// the 2x2 outputs of tile (i, tw) to out rows 2i, 2i+1 (only rows < out_h
// and columns < out_w; out points at output row 0 of this block).
struct WinogradOutputArgs {
  const float* m;
  int64_t m_plane, tiles_w, rows;
  const float* bias;  // this output channel's bias, or nullptr
  float* out;
  int64_t out_row_stride, out_h, out_w;
};

struct WinogradKernel {
  Isa isa;
  const char* name;  // e.g. "f32-winograd-2x2-3x3-avx512"
  void (*input)(const WinogradInputArgs& a);
  void (*output)(const WinogradOutputArgs& a);
};

// The kernel for an ISA (nullptr if none: the layer keeps another algorithm).
const WinogradKernel* winograd_kernel_for(Isa isa);

// U = G g G^T for one 3x3 kernel g (row-major), as 16 floats (xi*4+nu),
// computed in double and rounded once.
void winograd_weight_transform(const float* g, float* u);

#if defined(SIMDCONV_HAVE_AVX512)
extern const WinogradKernel kWinogradAvx512;
#endif

}  // namespace simdconv
