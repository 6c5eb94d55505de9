// The plan step: every decision about how one call runs, made by one pure
// function of (layer, input shape, thread count, the ISA's kernels), before
// any work starts (as XNNPACK's reshape and MLAS's MlasConvPrepare). The
// drivers (src/drivers/) run a Plan and decide nothing; ConvLayer caches
// one Plan per input shape and thread count.
#pragma once
#include <cstdint>
#include <vector>

#include "simdconv/conv_params.h"
#include "simdconv/kernels.h"

namespace simdconv {

enum class Algorithm : int {
  Gemm = 0,       // implicit im2col + blocked GEMM (the general path)
  Depthwise = 1,  // direct kernel, one input channel per group
  GroupedDirect = 2,  // direct kernel, a few input and output channels per group (ResNeXt)
  Direct = 3,     // direct kernel on a dense layer (spatial kernel, modest Cin)
  Winograd = 4,   // Winograd F(2x2, 3x3): 3x3, stride 1, ungrouped, equal dilations
  TransposedDirect = 5,  // ConvTranspose2d: each output element gathers the taps that reach it
  TransposedGemm = 6,    // ConvTranspose2d: cols = W^T x X on the GEMM kernels, then a col2im gather
};
const char* algorithm_name(Algorithm a);
// The algorithms that run a transposed layer (ConvTranspose2d), and only such layers.
inline bool is_transposed(Algorithm a) {
  return a == Algorithm::TransposedDirect || a == Algorithm::TransposedGemm;
}

// Whether the Winograd algorithm can run this layer on this ISA (3x3, stride
// 1, ungrouped, dilation_h == dilation_w, an ISA with Winograd transforms).
bool winograd_applies(const LayerParams& p, Isa isa);

// Picks the layer's algorithm for an ISA from the layer alone (the dense
// direct kernel only where it is vectorised: the portable build keeps the
// GEMM for dense layers). The per-call plan may still run the GEMM instead
// (Plan::gemm_fallback).
Algorithm choose_algorithm(const LayerParams& p, Isa isa);
// The same on the active ISA (exposed for tests and `info`).
Algorithm choose_algorithm(const LayerParams& p);

// Whether a layer built for `algo` keeps its weights in PyTorch's layout:
// the direct kernels read them so, and a Winograd layer whose padding or
// dilation could make its phase rows outgrow the output keeps them for the
// GEMM fallback (the GEMM packs them per call then).
bool keeps_raw_weights(const LayerParams& p, Algorithm algo);

// Whether a transposed layer built for the transposed GEMM runs this call
// on it (else on the transposed direct gather): the GEMM's cols matrix for
// one output element must fit kTransposedColsBudget, and its cost estimate
// must be below the gather's (see src/plan/transposed_gemm.cpp). Depends on
// the layer, the input shape and the GEMM kernel only, never on the thread
// count, so results stay bitwise identical across thread counts.
bool transposed_gemm_pays(const LayerParams& p, const CallShape& s, const GemmKernel& gk);

// GEMM: tasks over batch x groups x pixel blocks x output-channel ranges,
// each packing its own B block (or reading B in place); or, when
// shared_b, B packed once per pixel chunk and shared by the tasks.
struct GemmPlan {
  int64_t nc = 0;       // pixels per block (the last block takes the rest)
  int64_t p_tiles = 0;  // pixel blocks per image and group
  int64_t m_panels = 0, m_tiles = 1, panels_per_mtile = 0;  // output-channel ranges of MR panels
  int64_t panel_pad = 0;  // floats between packed B micro-panels (L1 set spread)
  bool b_in_place = false;  // 1x1, stride 1, unpadded: the kernel reads B from the input
  bool shared_b = false;
  // shared_b: pixel chunks of chunk_panels NR panels, packed (all K blocks)
  // into one buffer of shared_floats owned by the calling thread.
  int64_t chunks = 0, chunk_panels = 0, kblocks = 0, per_panel = 0, shared_floats = 0;
};

// Shared-B chunk c of an image and group: NR panels [j_begin, j_begin +
// panels), pixels [p0, p0 + np).
struct SharedChunk {
  int64_t j_begin, panels, p0, np;
};
SharedChunk shared_chunk(const GemmPlan& g, int64_t P, int64_t nr, int64_t c);
// The two phases of one shared-B chunk of `panels` NR panels.
struct SharedChunkSplit {
  int64_t psplit, pper;                     // phase 1 (pack): K blocks x psplit ranges of pper panels
  int64_t m_tiles, n_split, mper, nper;     // phase 2 (multiply): m_tiles x n_split tasks
};
SharedChunkSplit shared_chunk_split(const GemmPlan& g, int threads, int64_t panels);

// Direct (dense, grouped, depthwise): tasks over batch x groups x bands of
// output rows; each pads its band of every input channel of the group (or
// reads the plane in place: dw_in_place).
struct DirectPlan {
  int64_t Wq = 0, RS = 0;   // phase length and padded row stride (stride-split columns)
  int64_t reach = 0;        // input rows one output row reads
  int64_t bh = 0, bands = 0;  // output rows per band, bands per plane
  int64_t in_rows = 0, PS = 0, band_n = 0;  // padded rows, floats per channel and per band
  int64_t taps = 0;         // Cin/groups x kH x kW
  // Depthwise read in place (no padded copy, no workspace), or nullptr:
  // the kernel's dw_in_place_kernel() for the layer's kernel size and stride.
  DwInPlaceFn dw_in_place = nullptr;
};

// Winograd F(2x2, 3x3): tasks over batch x phases x blocks of tile rows x
// output-channel ranges.
struct WinogradPlan {
  int64_t d = 1, S = 2;               // dilation, column phases of a padded row
  int64_t phases_h = 1, phases_w = 1, phases = 1;
  int64_t th_n = 0, tw_n = 0;         // tiles of the largest phase
  int64_t Wq = 0, RS = 0, Hp = 0;
  int64_t bt = 0, blocks = 0;         // tile rows per block, blocks per phase
  int64_t m_panels = 0, m_tiles = 1, mper = 0;
  int64_t band_rows = 0;
};

// Transposed direct: tasks over batch x output channels x bands of output
// rows; each output element gathers, in a fixed order, the (input channel,
// kh, kw) taps whose input position lands on it, so no two tasks write one
// element and the sums do not depend on the thread count.
struct TransposedPlan {
  int64_t bh = 0, bands = 0;  // output rows per band, bands per plane
};

// Transposed GEMM: tasks over batch x groups x bands of output rows x bands
// of output columns. A task computes cols = W_g^T x X for the input pixels
// whose taps reach its output rectangle (rows x columns of the input, at
// most `max_rows` x `max_cols`), M = Cout/groups x kH x kW rows, with the
// GEMM microkernel, then gathers each output element of its rectangle from
// the cols entries of its taps (bias, then kh, kw ascending). Work and
// scratch follow the output: only reaching input pixels are multiplied, and
// cols stays within kTransposedColsBudget floats.
struct TransposedGemmPlan {
  int64_t M = 0;                     // rows of A = W^T (Cout/groups x kH x kW)
  int64_t bh = 0, bands = 0;         // output rows per band, row bands
  int64_t bw = 0, col_bands = 0;     // output columns per band, column bands
  int64_t max_rows = 0, max_cols = 0;  // input rows / columns one task multiplies, at most
  int64_t m_block = 0;               // A micro-panels per block (the block stays in L2)
  int64_t panel_pad = 0;             // floats between packed B micro-panels
  int64_t cols_floats = 0;           // scratch: the cols matrix; the packed B follows it
};

struct Plan {
  CallShape shape;
  OutputSize out{0, 0};
  int threads = 1;
  Isa isa = Isa::Scalar;
  Algorithm layer_algorithm = Algorithm::Gemm;  // what the layer was built for
  Algorithm algorithm = Algorithm::Gemm;        // what this call runs
  // The layer's direct or Winograd band would outgrow what the output reads
  // (huge padding, stride or dilation around a small input): the call runs
  // the GEMM, whose work and scratch follow the output, on weights packed
  // for the call.
  bool gemm_fallback = false;
  const GemmKernel* gemm = nullptr;
  const DirectKernel* direct = nullptr;
  const WinogradKernel* winograd = nullptr;
  const char* microkernel = "";   // the main kernel's name
  int64_t tasks = 0;              // parallel_for tasks of the whole call
  int64_t workspace_floats = 0;   // the most per-thread scratch one task takes
  GemmPlan g;
  DirectPlan dp;
  WinogradPlan w;
  TransposedPlan tp;
  TransposedGemmPlan tg;
};

// The plan of one call. Pure: depends on nothing but its arguments (never on
// timings), so a plan, and with it every result, is reproducible. Throws
// std::invalid_argument for a call the layer cannot run, std::length_error
// when a size is beyond what the library handles.
Plan plan_conv(const LayerParams& p, Algorithm layer_algorithm, const CallShape& s, int threads,
               const IsaKernels& k);

// The transposed GEMM's cols matrix and packed B of one task stay within
// this many floats (4 MiB): a band of output whose taps' cols would not fit
// is split, and a layer whose single output element would not fit runs on
// the transposed direct algorithm.
constexpr int64_t kTransposedColsBudget = int64_t(1) << 20;

// Per-task scratch above this many floats is refused (std::length_error).
constexpr int64_t kMaxScratch = int64_t(1) << 31;
// The shared B buffer of the GEMM (GemmPlan::shared_b) holds at most this
// many floats (it is kept across calls).
constexpr int64_t kMaxSharedB = int64_t(2) << 20;

// What one task writes: images [n, n+1), output channels [c0, c1), output
// pixels (flattened oh * OW + ow) listed as `spans` of [begin, end).
struct OutputTile {
  int64_t n = 0, c0 = 0, c1 = 0;
  std::vector<std::pair<int64_t, int64_t>> spans;
};
// Every tile the plan's tasks write, in task order (tests: the tasks cover
// the output exactly once). Uses the same task decoding as the drivers.
std::vector<OutputTile> output_tiles(const Plan& plan, const LayerParams& p);

// Task decoding shared by the drivers and output_tiles().
struct GemmTask {
  int64_t n, g, mp_begin, mp_end, p0, np;  // empty when mp_begin >= mp_end or np <= 0
};
GemmTask gemm_task(const Plan& plan, const LayerParams& p, int64_t t);
struct DirectTask {
  int64_t n, g, oh0, oh_n;
};
DirectTask direct_task(const Plan& plan, const LayerParams& p, int64_t t);
struct WinogradTask {
  int64_t n, pr, pc;          // image, phase (row, column)
  int64_t sub_h, sub_w;       // the phase's output grid
  int64_t th, tw, th0, rows;  // the phase's tiles, this block's first tile row and rows
  int64_t mp_begin, mp_end, m_begin, m_end;
  bool empty;
};
WinogradTask winograd_task(const Plan& plan, const LayerParams& p, int64_t t);
struct TransposedTask {
  int64_t n, oc, oh0, oh_n;
};
TransposedTask transposed_task(const Plan& plan, const LayerParams& p, int64_t t);
struct TransposedGemmTask {
  int64_t n, g, oh0, oh_n, ow0, ow_n;
};
TransposedGemmTask transposed_gemm_task(const Plan& plan, const LayerParams& p, int64_t t);

// The input positions [lo, lo + n) along one axis whose taps land in output
// positions [o0, o0 + on) of a transposed conv (output o = i*stride - pad +
// k*dilation): an input position outside it reaches none of them. n = 0
// when none does.
struct InputSpan {
  int64_t lo, n;
};
InputSpan transposed_input_span(int64_t o0, int64_t on, int64_t pad, int64_t kernel,
                                int64_t dilation, int64_t stride, int64_t size);

}  // namespace simdconv
