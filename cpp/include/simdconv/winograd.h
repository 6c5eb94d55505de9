// Winograd F(2x2, 3x3) for 3x3, stride-1, ungrouped layers
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
// band: that channel's padded input rows (row r at band + r*row_stride),
// each split into column phases as the direct kernels' pad_plane() writes
// them. Tile (i, tw) reads band rows 2i..2i+3 and, in each, the four floats
// even[tw], odd[tw], even[tw+1], odd[tw+1] with even = row, odd = row +
// odd_offset. Undilated: stride-2 phases, band at the even phase, odd_offset
// = wq. Dilation d: stride-2d phases, band at phase pc (the output column
// phase), odd_offset = d*wq. Writes V[xi*4+nu] of tile t = i*tiles_w + tw
// to v[(xi*4+nu)*v_plane + t].
struct WinogradInputArgs {
  const float* band;
  int64_t row_stride, odd_offset, tiles_w, rows;
  float* v;
  int64_t v_plane;
};

// Output transform of one output channel for `rows` tile rows: reads
// M[xi*4+nu] of tile t at m[(xi*4+nu)*m_plane + t], adds the bias and writes
// output (2i + a, 2tw + b) of tile (i, tw) to out[(2i + a)*out_row_stride +
// (2tw + b)*col_step], for 2i + a < out_h and 2tw + b < out_w only (out at
// the block's first output; col_step is the dilation: a dilated layer is
// computed as d*d undilated ones on the phases of its output grid).
struct WinogradOutputArgs {
  const float* m;
  int64_t m_plane, tiles_w, rows;
  const float* bias;  // this output channel's bias, or nullptr
  float* out;
  int64_t out_row_stride, out_h, out_w, col_step;
};

struct WinogradKernel {
  Isa isa;
  const char* name;  // e.g. "f32-winograd-2x2-3x3-avx512"
  void (*input)(const WinogradInputArgs& a);
  void (*output)(const WinogradOutputArgs& a);
};

// kernels_for(isa)->winograd (kernels.h), or nullptr if none (the planner keeps another algorithm).
const WinogradKernel* winograd_kernel_for(Isa isa);

// U = G g G^T for one 3x3 kernel g (row-major), as 16 floats (xi*4+nu),
// computed in double and rounded once.
void winograd_weight_transform(const float* g, float* u);

#if defined(SIMDCONV_HAVE_AVX2)
extern const WinogradKernel kWinogradAvx2;
#endif
#if defined(SIMDCONV_HAVE_AVX512)
extern const WinogradKernel kWinogradAvx512;
#endif

}  // namespace simdconv
