// The planner (plan.h): which algorithm a layer runs, and for one call, the
// blocking and the thread split. The drivers in src/drivers/ only run what
// this file decides.
#include "simdconv/plan.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "plan_internal.h"
#include "simdconv/checked_math.h"

namespace simdconv {

const char* algorithm_name(Algorithm a) {
  switch (a) {
    case Algorithm::Gemm: return "im2col-gemm";
    case Algorithm::Depthwise: return "depthwise-direct";
    case Algorithm::GroupedDirect: return "grouped-direct";
    case Algorithm::Direct: return "direct";
    case Algorithm::Winograd: return "winograd-2x2";
    case Algorithm::TransposedDirect: return "transposed-direct";
    case Algorithm::TransposedGemm: return "transposed-gemm";
  }
  return "unknown";
}

bool winograd_applies(const LayerParams& p, Isa isa) {
  const IsaKernels* k = kernels_for(isa);
  return k != nullptr && k->winograd != nullptr && k->gemm != nullptr &&
         k->gemm->fn_ldb != nullptr && p.kernel_h == 3 && p.kernel_w == 3 && p.stride_h == 1 &&
         p.stride_w == 1 && p.dilation_h == p.dilation_w && p.groups == 1;
}

Algorithm choose_algorithm(const LayerParams& p) { return choose_algorithm(p, active_isa()); }

Algorithm choose_algorithm(const LayerParams& p, Isa isa) {
  // A transposed layer: the GEMM form, which keeps the raw weights too, so
  // that plan_conv can run a call whose taps would not pay for the GEMM on
  // the direct gather (transposed_gemm_pays).
  if (p.transposed) return Algorithm::TransposedGemm;
  // One input channel per group: a GEMM with K = kH*kW and M = out/in would
  // be almost all packing, so the direct kernel wins.
  if (p.in_per_group() == 1) return Algorithm::Depthwise;
  // A few channels per group (ResNeXt: 4 in, 4 out): a per-group GEMM would
  // fill a fraction of its register tile and pack B for a tiny M, while the
  // direct kernel feeds every input load to several output channels.
  if (p.groups > 1 && p.in_per_group() <= 16 && p.out_per_group() <= 16)
    return Algorithm::GroupedDirect;
  // 3x3 stride 1 with enough channels on both sides: Winograd F(2x2, 3x3)
  // does 16 products per 2x2 outputs instead of 36; its transforms are paid
  // per channel, so it needs enough channels (>= 32 each side) to amortise
  // them.
  if (winograd_applies(p, isa) && p.in_channels >= 32 && p.out_channels >= 32)
    return Algorithm::Winograd;
  // A 2-D kernel over a modest number of input channels (<= 128): the
  // direct kernel reads the taps straight from a padded copy of the input,
  // with no im2col packing. Deep reductions and 1-D / 1x1 kernels stay on
  // the GEMM, whose B panel lives in L1.
  const bool simd = isa == Isa::Avx2 || isa == Isa::Avx512;
  if (simd && p.kernel_h >= 2 && p.kernel_w >= 2 && p.in_per_group() <= 128)
    return p.groups > 1 ? Algorithm::GroupedDirect : Algorithm::Direct;
  return Algorithm::Gemm;
}

namespace {

// A padding or dilated kernel extent above this many elements can make the
// Winograd path's phase rows outgrow the output (see cost_follows_output);
// up to it, they are at most a small constant factor larger than the rows
// the output reads, so only such layers keep their raw weights for the GEMM
// fallback.
constexpr int64_t kLargeGeometry = 64;
bool geometry_may_outgrow_output(const LayerParams& p) {
  return std::max({p.pad_top, p.pad_bottom, p.pad_left, p.pad_right,
                   p.dilation_h * (p.kernel_h - 1), p.dilation_w * (p.kernel_w - 1)}) >
         kLargeGeometry;
}

// The direct and Winograd paths copy whole padded rows (every column from
// the left padding to the right one, phase-split by the stride) into a band;
// the GEMM packs only the input elements each output element reads. The
// band is the faster layout as long as it is not much larger than what the
// output reads; a call where it would be (huge padding, stride or dilation
// around a small input: a 2^31-wide padded row for a 3x3 output; 1000
// channels of 1000-column zero rows for 2 output columns) runs on the GEMM
// instead. The rule depends only on the layer and the call's shape, never
// on the thread count, so results stay bitwise reproducible.
bool cost_follows_output(const LayerParams& p, Algorithm algo, const CallShape& s, OutputSize o) {
  const int64_t Wp = s.width + p.pad_left + p.pad_right;  // <= 3 * 2^31 (output_size)
  if (algo == Algorithm::Winograd) {
    // Padded floats per channel and image: each of the phases_w column
    // phases pads every d-th row of the rows its tiles read (about OH, plus
    // two halo rows per tile-row block) at the full padded width RS.
    const int64_t d = p.dilation_h, S = 2 * d;
    const int64_t phases_h = std::min(d, o.height), phases_w = std::min(d, o.width);
    const int64_t tw_n = ((o.width + d - 1) / d + 1) / 2;
    const int64_t RS = S * std::max((Wp + S - 1) / S, tw_n + 1);
    const int64_t limit = saturating_product({16, o.height, o.width}) / 2 + (int64_t(1) << 16);
    return product_or_neg({phases_w, o.height + 2 * phases_h, RS}, limit) >= 0;
  }
  // Direct: the band of one output row is `reach` padded rows of RS floats
  // per input channel of the group; that output row reads the group's
  // reduction (Cin/groups x kH x kW) times OW of them.
  const int64_t sw = p.stride_w, RS = sw * ((Wp + sw - 1) / sw);
  const int64_t reach = (p.kernel_h - 1) * p.dilation_h + 1;  // <= 2^62 + 1
  const int64_t reads = saturating_product({8, p.reduction(), o.width});
  const int64_t limit = std::min(reads, INT64_MAX / 2) + (int64_t(1) << 16);
  return product_or_neg({p.in_per_group(), reach, RS}, limit) >= 0;
}

// A GEMM whose B is the input itself (1x1, stride 1, no padding) and a
// kernel that reads B in place: no packing pass over the input.
bool b_in_place_applies(const LayerParams& p, const GemmKernel& gk) {
  return gk.fn_ldb != nullptr && p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 &&
         p.stride_w == 1 && p.pad_top == 0 && p.pad_bottom == 0 && p.pad_left == 0 &&
         p.pad_right == 0;
}

// Whether reading B in place beats packing it: it does when the reduction
// is short (<= 64 channels: its rows stay in L1 across the output-channel
// panels) or when the group's input is larger than L2 (packing it would
// stream it from L3 once more); it does not when the input sits in L2
// anyway, nor when the channel planes are a multiple of 4 KiB apart (the
// rows of one tile then share a few L1 sets).
bool b_in_place_pays(int64_t channels, int64_t plane) {
  const int64_t bytes = plane * int64_t(sizeof(float));
  if (bytes % 64 == 0) {
    int64_t lines = (bytes / 64) % 64, g = 64;  // gcd(lines, 64): 64 / g sets of the 64
    while (lines != 0) { const int64_t t = g % lines; g = lines; lines = t; }
    if (g > 4) return false;
  }
  return channels <= 64 || channels * bytes > (int64_t(1) << 20);
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Bands of output rows so that a call has about four tasks per thread even
// for a batch of one and few channels; each task writes its own rows of one
// output channel plane, so the split never changes a sum. No scratch: the
// gather reads the input and weights in place, and its work is the output
// elements times the taps that reach them (cost follows the output).
void plan_transposed(Plan& pl, const LayerParams& p) {
  const int64_t planes = checked_mul(pl.shape.batch, p.out_channels, "transposed tasks");
  const int64_t want = 4 * int64_t(pl.threads);
  const int64_t bands = std::min(pl.out.height, std::max<int64_t>(1, ceil_div(want, planes)));
  pl.tp.bh = ceil_div(pl.out.height, bands);
  pl.tp.bands = ceil_div(pl.out.height, pl.tp.bh);
  pl.tasks = checked_mul(planes, pl.tp.bands, "transposed tasks");
  pl.workspace_floats = 0;
  pl.microkernel = "transposed-gather-scalar";
}

// B packed once per pixel chunk and shared by the tasks, for few pixel
// blocks and several threads (batch 1, small images): instead of splitting
// output channels over tasks that would each pack the same B block. False
// when the chunk that fits kMaxSharedB would be too small.
bool plan_shared_b(Plan& pl, const LayerParams& p) {
  const GemmKernel& gk = *pl.gemm;
  GemmPlan& g = pl.g;
  const int64_t K = p.reduction(), P = pl.out.height * pl.out.width;
  const int64_t nr = int64_t(gk.nr), kc = int64_t(gk.kc);
  g.kblocks = ceil_div(K, kc);
  g.per_panel = K * nr + g.kblocks * g.panel_pad;  // floats of one panel, all K
  const int64_t total_panels = ceil_div(P, nr);
  // A chunk of at most nc pixels: one K block of it stays in L2 while the
  // tasks run over it.
  const int64_t nc_panels = std::max<int64_t>(1, int64_t(gk.nc) / nr);
  int64_t chunk_panels = std::min({total_panels, nc_panels, kMaxSharedB / g.per_panel});
  if (chunk_panels < std::min<int64_t>(total_panels, pl.threads)) return false;
  g.shared_b = true;
  g.chunks = ceil_div(total_panels, chunk_panels);
  g.chunk_panels = ceil_div(total_panels, g.chunks);
  g.shared_floats = g.chunk_panels * g.per_panel;
  int64_t per_image = 0;
  for (int64_t c = 0; c < g.chunks; ++c) {
    const SharedChunkSplit sp = shared_chunk_split(g, pl.threads, shared_chunk(g, P, nr, c).panels);
    per_image += g.kblocks * sp.psplit + sp.m_tiles * sp.n_split;
  }
  pl.tasks = pl.shape.batch * p.groups * per_image;
  pl.workspace_floats = 0;  // the tasks use the shared buffer only
  return true;
}

void plan_gemm(Plan& pl, const LayerParams& p) {
  const GemmKernel& gk = *pl.gemm;
  GemmPlan& g = pl.g;
  const int64_t M = p.out_per_group(), K = p.reduction(), P = pl.out.height * pl.out.width;
  const int64_t G = p.groups, cin_g = p.in_per_group();
  const int64_t mr = int64_t(gk.mr), nr = int64_t(gk.nr), kc = int64_t(gk.kc);
  const int64_t threads = pl.threads;
  pl.microkernel = gk.name;
  // Micro-panels one or two cache lines apart beyond their size, so that the
  // rows of all panels written for one K step do not share an L1 set.
  g.panel_pad = std::max<int64_t>(16, nr);
  // Pixel blocks of about nc; with several threads, the number of blocks
  // is rounded up to a multiple of the thread count so no thread idles at the
  // end (the split only moves tile boundaries: results do not change).
  // Blocks end on a multiple of gran columns: a kernel whose NR is a multiple
  // of 16 runs a tile of <= 16 columns at half cost, so 16-column steps
  // balance the threads.
  const int64_t gran = (nr > 16 && nr % 16 == 0) ? 16 : nr;
  // Cost of a block of n pixels in microkernel tiles: a last tile of <= 16
  // columns runs at half cost, one the narrow-tile kernel takes at ~1/4.
  const auto block_cost = [&](int64_t n) {
    const int64_t rem = n % nr;
    double c = double(n / nr);
    if (rem > 0) c += gk.tail && rem <= int64_t(gk.tail_nr) ? 0.25 : rem <= gran ? 0.5 : 1.0;
    return c;
  };
  int64_t nc = std::max(nr, int64_t(gk.nc) / nr * nr);
  int64_t p_tiles = ceil_div(P, nc);
  // Even split of P into blocks of whole gran steps (the last block takes
  // the rest: it may be the shorter or, after the search below, the longer).
  nc = ceil_div(ceil_div(P, p_tiles), gran) * gran;
  p_tiles = ceil_div(P, nc);
  if (threads > 1) {
    const int64_t per_pix = pl.shape.batch * G;
    const int64_t total = per_pix * p_tiles;
    const int64_t want = ceil_div(total, threads) * threads;
    const int64_t want_p = ceil_div(want, per_pix);
    if (want_p > p_tiles) {
      // want_p blocks: the block size (a multiple of gran, at least nr) whose
      // slowest block is cheapest.
      double best = 0;
      int64_t best_nc = 0;
      const int64_t hi = ceil_div(P, want_p) + gran;
      for (int64_t c = nr; c <= hi; c += gran) {
        const int64_t last = P - (want_p - 1) * c;
        if (last <= 0) break;
        const double cost = std::max(block_cost(c), block_cost(last));
        if (best_nc == 0 || cost < best) best = cost, best_nc = c;
      }
      if (best_nc > 0) nc = best_nc, p_tiles = want_p;
    }
  }
  g.nc = nc;
  g.p_tiles = p_tiles;
  g.m_panels = ceil_div(M, mr);
  // Split output channels too when pixels alone give too few tasks (batch 1,
  // small images, wide layers), so every thread has work. When the pixel
  // blocks already split evenly over the threads, each task packs its own B
  // and runs all output channels: no B packed twice, no barrier, and no B
  // handed between cores.
  const int64_t base_tasks = pl.shape.batch * G * p_tiles;
  const int64_t want_tasks = threads > 1 ? (base_tasks % threads == 0 ? threads : 3 * threads) : 1;
  g.b_in_place = b_in_place_applies(p, gk) && b_in_place_pays(cin_g, pl.shape.height * pl.shape.width);
  // (B read in place is never packed, so splitting output channels costs nothing.)
  if (threads > 1 && base_tasks < want_tasks && g.m_panels > 1 && !g.b_in_place &&
      plan_shared_b(pl, p))
    return;
  g.m_tiles = base_tasks >= want_tasks ? 1 : std::min(g.m_panels, ceil_div(want_tasks, base_tasks));
  g.panels_per_mtile = ceil_div(g.m_panels, g.m_tiles);
  pl.tasks = base_tasks * g.m_tiles;
  // The largest pixel block: every block but the last is nc wide.
  const int64_t max_np = std::max(p_tiles > 1 ? nc : 0, P - (p_tiles - 1) * nc);
  pl.workspace_floats = (std::min(kc, K) * nr + g.panel_pad) * ceil_div(max_np, nr);
}

void plan_direct(Plan& pl, const LayerParams& p) {
  DirectPlan& d = pl.dp;
  const OutputSize o = pl.out;
  const int64_t W = pl.shape.width;
  const int64_t cin_g = p.in_per_group();
  const int64_t sh = p.stride_h, sw = p.stride_w, dh = p.dilation_h;
  pl.microkernel = pl.direct->name;
  const int64_t Wp = W + p.pad_left + p.pad_right;
  d.Wq = ceil_div(Wp, sw);
  d.RS = sw * d.Wq;
  d.reach = (p.kernel_h - 1) * dh + 1;
  // Bands of output rows: the padded rows a band reads, for all the group's
  // channels, stay within ~256 KB (L2) and there are enough tasks for the threads.
  constexpr int64_t kBandBudget = 64 * 1024;
  int64_t bh = std::max<int64_t>(
      1, (kBandBudget / std::max<int64_t>(1, saturating_product({cin_g, d.RS})) - d.reach) / sh + 1);
  bh = std::min(bh, o.height);
  const int64_t threads = pl.threads;
  const int64_t outer = pl.shape.batch * p.groups;
  if (threads > 1 && outer < 4 * threads) {
    const int64_t bands_wanted = ceil_div(4 * threads, outer);
    bh = std::min(bh, std::max<int64_t>(1, ceil_div(o.height, bands_wanted)));
  }
  d.bh = bh;
  d.bands = ceil_div(o.height, bh);
  d.in_rows = (bh - 1) * sh + d.reach;
  d.PS = checked_mul(d.in_rows, d.RS, "padded input band (rows x row length)");
  d.band_n = checked_mul(cin_g, d.PS, "padded input band (channels x band)");
  if (d.band_n > kMaxScratch)
    throw std::length_error("padded input band of " + std::to_string(d.band_n) + " elements (" +
                            std::to_string(cin_g) + " channels x " + std::to_string(d.in_rows) +
                            " rows x " + std::to_string(d.RS) + ") is larger than 2^31");
  d.taps = cin_g * p.kernel_h * p.kernel_w;
  // Depthwise (one input channel per group) k x k, stride 1 or 2 both ways,
  // dilation 1, zero padding of any size: read the input plane in place
  // where the ISA has the kernel for k and the stride (the capability table's
  // DirectKernel::dw<k>s<s>). No padded copy per task and no workspace, and
  // the kernel loads each input row once for the k output rows that read it.
  // Other padding modes and dilations keep the padded copy and fn.
  const bool dw_fits = cin_g == 1 && p.kernel_h == p.kernel_w && dh == 1 && p.dilation_w == 1 &&
                       p.pad_mode == PadMode::Zeros && sh == sw;
  d.dw_in_place = dw_fits ? dw_in_place_kernel(*pl.direct, p.kernel_h, sh) : nullptr;
  pl.tasks = outer * d.bands;
  pl.workspace_floats = d.dw_in_place != nullptr ? 0 : d.band_n + kDirectSlack;
}

// Winograd F(2x2, 3x3) (see winograd.h and drivers/winograd.cpp). A layer
// with dilation d is d*d undilated convolutions, one per phase of the output
// grid.
void plan_winograd(Plan& pl, const LayerParams& p) {
  WinogradPlan& w = pl.w;
  const GemmKernel& gk = *pl.gemm;
  const int64_t C = p.in_channels, M = p.out_channels, H = pl.shape.height, W = pl.shape.width;
  const int64_t OH = pl.out.height, OW = pl.out.width;
  pl.microkernel = pl.winograd->name;
  // Only the phases that hold an output element: min(d, OH) x min(d, OW)
  // (a 1x1 output of a layer with dilation 2^20 has one phase, not 2^40).
  w.d = p.dilation_h;
  w.S = 2 * w.d;
  const int64_t d = w.d, S = w.S;
  w.phases_h = std::min(d, OH);
  w.phases_w = std::min(d, OW);
  w.phases = w.phases_h * w.phases_w;
  // Phase (0, 0) has the most tiles: ceil(ceil(OH/d)/2) x ceil(ceil(OW/d)/2).
  w.th_n = (ceil_div(OH, d) + 1) / 2;
  w.tw_n = (ceil_div(OW, d) + 1) / 2;
  // Padded rows split into S column phases (column x at phase x % S, index
  // x / S); a last tile may read index tw_n, past the padded row: those
  // floats, and rows past the padded input, stay zero.
  const int64_t Wp = p.pad_left + W + p.pad_right;
  w.Hp = p.pad_top + H + p.pad_bottom;
  w.Wq = std::max(ceil_div(Wp, S), w.tw_n + 1);
  w.RS = S * w.Wq;
  const int64_t mr = int64_t(gk.mr), nr = int64_t(gk.nr);
  const int64_t threads = pl.threads;
  // Tile rows per block: V (16 x C x tiles) of about 256 KiB, so that V and
  // the block's M stay in L2, but at least 64 tiles so the GEMMs have two
  // full column panels.
  const int64_t want_tiles = std::max<int64_t>(64, 4096 / C);
  int64_t bt = std::min(w.th_n, std::max<int64_t>(1, want_tiles / w.tw_n));
  int64_t blocks = ceil_div(w.th_n, bt);
  w.m_panels = ceil_div(M, mr);
  int64_t m_tiles = 1;
  if (threads > 1) {
    // Enough tasks for the threads: first smaller row blocks (down to ~2
    // column panels each), then output-channel ranges (each range repeats
    // the input transform, a small part of the work).
    while (pl.shape.batch * w.phases * blocks < 2 * threads && bt > 1 &&
           (bt / 2) * w.tw_n >= 2 * nr) {
      bt = (bt + 1) / 2;
      blocks = ceil_div(w.th_n, bt);
    }
    // Just enough ranges for a whole number of tasks per thread: each range
    // repeats the input transform, so more ranges than that cost more than
    // they balance.
    const int64_t base = pl.shape.batch * w.phases * blocks;
    if (base % threads != 0 && base < 4 * threads) {
      int64_t a = base, b = threads;  // gcd
      while (b != 0) { const int64_t t = a % b; a = b; b = t; }
      m_tiles = std::min(w.m_panels, threads / a);
    }
  }
  w.bt = bt;
  w.blocks = blocks;
  w.m_tiles = m_tiles;
  w.mper = ceil_div(w.m_panels, m_tiles);
  w.band_rows = 2 * bt + 2;
  const int64_t max_nt = bt * w.tw_n;
  const int64_t work_n = checked_add(
      checked_product({16, std::max(C, w.mper * mr), max_nt}, "Winograd workspace (16 x channels x tiles)"),
      checked_product({w.band_rows, w.RS}, "Winograd band (rows x padded row)"), "Winograd workspace");
  if (work_n > kMaxScratch)
    throw std::length_error("Winograd workspace of " + std::to_string(work_n) +
                            " elements is larger than 2^31");
  pl.tasks = checked_product({pl.shape.batch, w.phases, blocks, m_tiles}, "Winograd tasks");
  // V (16 x C x tiles), M (16 x the range's channels x tiles), the band.
  pl.workspace_floats = 16 * (C + std::min(w.mper * mr, M)) * max_nt + w.band_rows * w.RS + kDirectSlack;
}

}  // namespace

SharedChunk shared_chunk(const GemmPlan& g, int64_t P, int64_t nr, int64_t c) {
  const int64_t total_panels = ceil_div(P, nr);
  SharedChunk ch;
  ch.j_begin = c * g.chunk_panels;
  ch.panels = std::min(g.chunk_panels, total_panels - ch.j_begin);
  ch.p0 = ch.j_begin * nr;
  ch.np = std::min(ch.panels * nr, P - ch.p0);
  return ch;
}

bool keeps_raw_weights(const LayerParams& p, Algorithm algo) {
  if (algo == Algorithm::Gemm) return false;
  if (algo == Algorithm::TransposedDirect || algo == Algorithm::TransposedGemm) return true;
  if (algo == Algorithm::Winograd) return geometry_may_outgrow_output(p);
  return true;
}

SharedChunkSplit shared_chunk_split(const GemmPlan& g, int threads, int64_t panels) {
  SharedChunkSplit s;
  // Phase 1: pack (K blocks x panel ranges), about two tasks per thread.
  const int64_t want = 2 * int64_t(threads);
  s.psplit = std::min(panels, ceil_div(want, g.kblocks));
  s.pper = ceil_div(panels, s.psplit);
  // Phase 2: multiply (output-channel tiles x panel ranges), every task over
  // all K blocks in order; one task per thread, since each task streams the
  // whole B chunk once per K block.
  const int64_t want2 = threads;
  s.m_tiles = std::min(g.m_panels, want2);
  s.n_split = std::min(panels, ceil_div(want2, s.m_tiles));
  s.mper = ceil_div(g.m_panels, s.m_tiles);
  s.nper = ceil_div(panels, s.n_split);
  return s;
}

Plan plan_conv(const LayerParams& p, Algorithm layer_algorithm, const CallShape& s, int threads,
               const IsaKernels& k) {
  Plan pl;
  pl.shape = s;
  pl.out = output_size(p, s);
  pl.threads = std::max(1, threads);
  pl.isa = k.isa;
  pl.layer_algorithm = layer_algorithm;
  pl.gemm = k.gemm;
  pl.direct = k.direct;
  pl.winograd = k.winograd;
  pl.algorithm = layer_algorithm;
  if (is_transposed(layer_algorithm) != p.transposed)
    throw std::invalid_argument(p.transposed ? "a transposed layer runs only on the transposed algorithms"
                                             : "the transposed algorithms run only a transposed layer");
  if (layer_algorithm == Algorithm::TransposedGemm && !transposed_gemm_pays(p, s, *k.gemm))
    pl.algorithm = Algorithm::TransposedDirect;
  if (!is_transposed(layer_algorithm) && layer_algorithm != Algorithm::Gemm &&
      keeps_raw_weights(p, layer_algorithm) &&
      !cost_follows_output(p, layer_algorithm, s, pl.out)) {
    pl.algorithm = Algorithm::Gemm;
    pl.gemm_fallback = true;
  }
  switch (pl.algorithm) {
    case Algorithm::Gemm: plan_gemm(pl, p); break;
    case Algorithm::Depthwise:
    case Algorithm::GroupedDirect:
    case Algorithm::Direct: plan_direct(pl, p); break;
    case Algorithm::Winograd: plan_winograd(pl, p); break;
    case Algorithm::TransposedDirect: plan_transposed(pl, p); break;
    case Algorithm::TransposedGemm: plan_transposed_gemm(pl, p); break;
  }
  return pl;
}

GemmTask gemm_task(const Plan& pl, const LayerParams& p, int64_t t) {
  const GemmPlan& g = pl.g;
  const int64_t P = pl.out.height * pl.out.width;
  GemmTask k;
  int64_t r = t;
  const int64_t mt = r % g.m_tiles; r /= g.m_tiles;
  const int64_t pt = r % g.p_tiles; r /= g.p_tiles;
  k.g = r % p.groups;
  k.n = r / p.groups;
  k.mp_begin = mt * g.panels_per_mtile;
  k.mp_end = std::min(g.m_panels, k.mp_begin + g.panels_per_mtile);
  k.p0 = pt * g.nc;
  k.np = pt + 1 == g.p_tiles ? P - k.p0 : std::min(g.nc, P - k.p0);
  return k;
}

DirectTask direct_task(const Plan& pl, const LayerParams& p, int64_t t) {
  DirectTask k;
  const int64_t band = t % pl.dp.bands, ng = t / pl.dp.bands;
  k.g = ng % p.groups;
  k.n = ng / p.groups;
  k.oh0 = band * pl.dp.bh;
  k.oh_n = std::min(pl.dp.bh, pl.out.height - k.oh0);
  return k;
}

TransposedTask transposed_task(const Plan& pl, const LayerParams& p, int64_t t) {
  TransposedTask k;
  const int64_t band = t % pl.tp.bands, plane = t / pl.tp.bands;
  k.oc = plane % p.out_channels;
  k.n = plane / p.out_channels;
  k.oh0 = band * pl.tp.bh;
  k.oh_n = std::min(pl.tp.bh, pl.out.height - k.oh0);
  return k;
}

WinogradTask winograd_task(const Plan& pl, const LayerParams& p, int64_t t) {
  const WinogradPlan& w = pl.w;
  const int64_t OH = pl.out.height, OW = pl.out.width, d = w.d, mr = int64_t(pl.gemm->mr);
  WinogradTask k;
  int64_t r = t;
  const int64_t mt = r % w.m_tiles; r /= w.m_tiles;
  const int64_t blk = r % w.blocks; r /= w.blocks;
  const int64_t ph = r % w.phases;
  k.n = r / w.phases;
  k.pr = ph / w.phases_w;
  k.pc = ph % w.phases_w;
  k.sub_h = OH > k.pr ? ceil_div(OH - k.pr, d) : 0;
  k.sub_w = OW > k.pc ? ceil_div(OW - k.pc, d) : 0;
  k.th = (k.sub_h + 1) / 2;
  k.tw = (k.sub_w + 1) / 2;
  k.th0 = blk * w.bt;
  k.mp_begin = mt * w.mper;
  k.mp_end = std::min(w.m_panels, k.mp_begin + w.mper);
  k.empty = k.th0 >= k.th || k.tw == 0 || k.mp_begin >= k.mp_end;
  k.m_begin = k.mp_begin * mr;
  k.m_end = std::min(p.out_channels, k.mp_end * mr);
  k.rows = k.empty ? 0 : std::min(w.bt, k.th - k.th0);
  return k;
}

std::vector<OutputTile> output_tiles(const Plan& pl, const LayerParams& p) {
  std::vector<OutputTile> tiles;
  const int64_t OH = pl.out.height, OW = pl.out.width, P = OH * OW;
  switch (pl.algorithm) {
    case Algorithm::Gemm: {
      const GemmPlan& g = pl.g;
      const int64_t M = p.out_per_group(), mr = int64_t(pl.gemm->mr), nr = int64_t(pl.gemm->nr);
      const auto channels = [&](OutputTile& o, int64_t grp, int64_t mp0, int64_t mp1) {
        o.c0 = grp * M + mp0 * mr;
        o.c1 = grp * M + std::min(M, mp1 * mr);
      };
      if (!g.shared_b) {
        for (int64_t t = 0; t < pl.tasks; ++t) {
          const GemmTask k = gemm_task(pl, p, t);
          if (k.mp_begin >= k.mp_end || k.np <= 0) continue;
          OutputTile o;
          o.n = k.n;
          channels(o, k.g, k.mp_begin, k.mp_end);
          o.spans.emplace_back(k.p0, k.p0 + k.np);
          tiles.push_back(o);
        }
        break;
      }
      for (int64_t n = 0; n < pl.shape.batch; ++n)
        for (int64_t grp = 0; grp < p.groups; ++grp)
          for (int64_t c = 0; c < g.chunks; ++c) {
            const SharedChunk ch = shared_chunk(g, P, nr, c);
            const SharedChunkSplit sp = shared_chunk_split(g, pl.threads, ch.panels);
            for (int64_t t = 0; t < sp.m_tiles * sp.n_split; ++t) {
              const int64_t mt = t / sp.n_split, ns = t % sp.n_split;
              const int64_t mp0 = mt * sp.mper, mp1 = std::min(g.m_panels, mp0 + sp.mper);
              const int64_t j0 = ns * sp.nper, j1 = std::min(ch.panels, j0 + sp.nper);
              if (mp0 >= mp1 || j0 >= j1) continue;
              OutputTile o;
              o.n = n;
              channels(o, grp, mp0, mp1);
              o.spans.emplace_back(ch.p0 + j0 * nr, std::min(ch.p0 + j1 * nr, ch.p0 + ch.np));
              tiles.push_back(o);
            }
          }
      break;
    }
    case Algorithm::Depthwise:
    case Algorithm::GroupedDirect:
    case Algorithm::Direct:
      for (int64_t t = 0; t < pl.tasks; ++t) {
        const DirectTask k = direct_task(pl, p, t);
        OutputTile o;
        o.n = k.n;
        o.c0 = k.g * p.out_per_group();
        o.c1 = o.c0 + p.out_per_group();
        o.spans.emplace_back(k.oh0 * OW, (k.oh0 + k.oh_n) * OW);
        tiles.push_back(o);
      }
      break;
    case Algorithm::TransposedDirect:
      for (int64_t t = 0; t < pl.tasks; ++t) {
        const TransposedTask k = transposed_task(pl, p, t);
        OutputTile o;
        o.n = k.n;
        o.c0 = k.oc;
        o.c1 = k.oc + 1;
        o.spans.emplace_back(k.oh0 * OW, (k.oh0 + k.oh_n) * OW);
        tiles.push_back(o);
      }
      break;
    case Algorithm::TransposedGemm:
      for (int64_t t = 0; t < pl.tasks; ++t) {
        const TransposedGemmTask k = transposed_gemm_task(pl, p, t);
        OutputTile o;
        o.n = k.n;
        o.c0 = k.g * p.out_per_group();
        o.c1 = o.c0 + p.out_per_group();
        for (int64_t oh = k.oh0; oh < k.oh0 + k.oh_n; ++oh)
          o.spans.emplace_back(oh * OW + k.ow0, oh * OW + k.ow0 + k.ow_n);
        tiles.push_back(o);
      }
      break;
    case Algorithm::Winograd:
      for (int64_t t = 0; t < pl.tasks; ++t) {
        const WinogradTask k = winograd_task(pl, p, t);
        if (k.empty) continue;
        OutputTile o;
        o.n = k.n;
        o.c0 = k.m_begin;
        o.c1 = k.m_end;
        // phase rows 2*th0 .. 2*(th0 + rows) (a last tile's second row may
        // fall past the phase grid), every phase column
        const int64_t d = pl.w.d;
        for (int64_t i = 2 * k.th0; i < std::min(2 * (k.th0 + k.rows), k.sub_h); ++i)
          for (int64_t j = 0; j < k.sub_w; ++j) {
            const int64_t idx = (k.pr + i * d) * OW + k.pc + j * d;
            if (d == 1) {
              o.spans.emplace_back(idx, idx + k.sub_w);
              break;
            }
            o.spans.emplace_back(idx, idx + 1);
          }
        tiles.push_back(o);
      }
      break;
  }
  return tiles;
}

}  // namespace simdconv
