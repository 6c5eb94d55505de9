// The transposed GEMM's plan (plan.h: TransposedGemmPlan): which output
// rectangle each task owns, the scratch it takes, and the rule that runs a
// call on it instead of the transposed direct gather.
#include "plan_internal.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "simdconv/checked_math.h"

namespace simdconv {
namespace {

// Floor and ceiling of a / b for b > 0 and a of either sign.
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t ceil_div_signed(int64_t a, int64_t b) { return -floor_div(-a, b); }

// One axis of a transposed conv: output o = i*stride - pad + k*dilation.
struct Axis {
  int64_t out, in, pad, k, d, s;
};
Axis axis_h(const LayerParams& p, const CallShape& s, OutputSize o) {
  return {o.height, s.height, p.pad_top, p.kernel_h, p.dilation_h, p.stride_h};
}
Axis axis_w(const LayerParams& p, const CallShape& s, OutputSize o) {
  return {o.width, s.width, p.pad_left, p.kernel_w, p.dilation_w, p.stride_w};
}

// At most this many input positions reach a run of `o` output positions:
// the multiples of the stride in an interval of o - 1 + d*(k - 1), and
// never more than the input has. (d*(k-1) < 2^62 and o < 2^33: no overflow.)
int64_t reach_bound(const Axis& a, int64_t o) {
  return std::min(a.in, (o - 1 + a.d * (a.k - 1)) / a.s + 1);
}

// The longest run of output positions (at least 1) whose reach stays within
// `cap` input positions: reach_bound(o) <= cap exactly when o <= cap*s - d*(k-1).
int64_t run_within(const Axis& a, int64_t cap) {
  if (reach_bound(a, a.out) <= cap) return a.out;
  const int64_t o = saturating_product({cap, a.s}) - a.d * (a.k - 1);
  return std::max<int64_t>(1, std::min(a.out, o));
}

// The (input position, kernel tap) pairs that land inside the output along
// one axis: the taps the direct gather sums. One interval per tap.
int64_t useful_taps(const Axis& a) {
  int64_t n = 0;
  for (int64_t k = 0; k < a.k; ++k) {
    const InputSpan sp = transposed_input_span(0, a.out, a.pad - k * a.d, 1, 1, a.s, a.in);
    n += sp.n;
  }
  return n;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The one-thread tiling: the widest column bands, then the tallest row
// bands, whose cols matrix and packed B fit kTransposedColsBudget. False
// when not even one output element fits (a huge Cout/groups x kH x kW, or a
// dilation that spreads one element's taps over many input rows).
bool tile(const LayerParams& p, const CallShape& s, OutputSize o, const GemmKernel& gk,
          TransposedGemmPlan* t) {
  const Axis ah = axis_h(p, s, o), aw = axis_w(p, s, o);
  const int64_t M = checked_product({p.out_per_group(), p.kernel_h, p.kernel_w}, "transposed GEMM rows");
  // Floats per input pixel a task multiplies: its M cols entries, its
  // column of the packed B (one K block), and up to two of panel padding.
  const int64_t per_pixel = checked_add(M, std::min(int64_t(gk.kc), p.in_per_group()) + 2,
                                        "transposed GEMM floats per pixel");
  const int64_t r1 = reach_bound(ah, 1), c1 = reach_bound(aw, 1);
  if (product_or_neg({per_pixel, r1, c1}, kTransposedColsBudget) < 0) return false;
  t->M = M;
  t->bw = run_within(aw, kTransposedColsBudget / (per_pixel * r1));
  t->max_cols = reach_bound(aw, t->bw);
  t->bh = run_within(ah, kTransposedColsBudget / (per_pixel * t->max_cols));
  t->max_rows = reach_bound(ah, t->bh);
  t->bands = ceil_div(o.height, t->bh);
  t->col_bands = ceil_div(o.width, t->bw);
  return true;
}

// The cost model, in units of one multiply-add of the GEMM microkernel.
// The gather does one scalar multiply-add per tap in one dependent chain,
// with index arithmetic (a division) per tap; a vector microkernel retires
// a vector of independent multiply-adds per cycle and port, the scalar one
// (4x8 register tile) 32 independent chains. col2im: a load, add and store
// per cols entry.
double direct_tap_cost(const GemmKernel& gk) { return gk.isa == Isa::Scalar ? 4.0 : 16.0; }
constexpr double kCol2imEntry = 2.0;

}  // namespace

InputSpan transposed_input_span(int64_t o0, int64_t on, int64_t pad, int64_t kernel,
                                int64_t dilation, int64_t stride, int64_t size) {
  const int64_t lo = std::max<int64_t>(0, ceil_div_signed(o0 + pad - dilation * (kernel - 1), stride));
  const int64_t hi = std::min(size - 1, floor_div(o0 + on - 1 + pad, stride));
  return InputSpan{lo, std::max<int64_t>(0, hi - lo + 1)};
}

bool transposed_gemm_pays(const LayerParams& p, const CallShape& s, const GemmKernel& gk) {
  const OutputSize o = output_size(p, s);
  TransposedGemmPlan t;
  if (!tile(p, s, o, gk, &t)) return false;
  // Per image, output channel and input channel: the GEMM multiplies every
  // cols entry (kH x kW per input pixel of each band, the bands' reaches
  // overlapping by the kernel's extent) and gathers it once; the gather
  // multiplies only the taps that land in the output.
  const Axis ah = axis_h(p, s, o), aw = axis_w(p, s, o);
  const double K = double(p.in_per_group());
  const double entries = double(p.kernel_h) * double(p.kernel_w) * double(t.bands) *
                         double(t.max_rows) * double(t.col_bands) * double(t.max_cols);
  const double gemm = entries * (K + kCol2imEntry);
  const double direct = double(useful_taps(ah)) * double(useful_taps(aw)) * K * direct_tap_cost(gk);
  return gemm <= direct;
}

void plan_transposed_gemm(Plan& pl, const LayerParams& p) {
  const GemmKernel& gk = *pl.gemm;
  TransposedGemmPlan& t = pl.tg;
  if (!tile(p, pl.shape, pl.out, gk, &t))
    throw std::invalid_argument("the transposed GEMM cannot run this call (transposed_gemm_pays)");
  const Axis ah = axis_h(p, pl.shape, pl.out);
  // Enough tasks for the threads: shorter row bands (each band multiplies
  // the input rows its taps reach, so more bands repeat a few rows; a
  // multiple of the thread count while there are few tasks per thread).
  // Only the tiles move: every sum keeps its order.
  const int64_t outer = checked_product({pl.shape.batch, p.groups, t.col_bands}, "transposed tasks");
  const int64_t threads = pl.threads;
  const int64_t tasks = checked_mul(outer, t.bands, "transposed tasks");
  if (threads > 1 && tasks < 4 * threads) {
    const int64_t want = ceil_div(tasks, threads) * threads;
    const int64_t bands = std::min(pl.out.height, ceil_div(want, outer));
    t.bh = std::min(t.bh, ceil_div(pl.out.height, bands));
    t.bands = ceil_div(pl.out.height, t.bh);
    t.max_rows = reach_bound(ah, t.bh);
  }
  // Outputs of few rows (1 x OW): narrower column bands, the same way.
  const int64_t rows_tasks = checked_product({pl.shape.batch, p.groups, t.bands}, "transposed tasks");
  if (threads > 1 && rows_tasks * t.col_bands < threads) {
    const Axis aw = axis_w(p, pl.shape, pl.out);
    const int64_t bands = std::min(pl.out.width, ceil_div(threads, rows_tasks));
    t.bw = std::min(t.bw, ceil_div(pl.out.width, bands));
    t.col_bands = ceil_div(pl.out.width, t.bw);
    t.max_cols = reach_bound(aw, t.bw);
  }
  const int64_t mr = int64_t(gk.mr), nr = int64_t(gk.nr);
  const int64_t kc = std::min(int64_t(gk.kc), p.in_per_group());
  // A blocks of about 128 KiB (half an L2) stay cached across the B panels.
  t.m_block = std::max<int64_t>(1, (int64_t(32) << 10) / (mr * kc));
  t.panel_pad = std::max<int64_t>(16, nr);  // as the GEMM: panels apart by a cache line or two
  const int64_t pixels = t.max_rows * t.max_cols;
  t.cols_floats = checked_product({t.M, t.max_rows, t.max_cols}, "transposed GEMM cols");
  pl.workspace_floats = checked_add(
      t.cols_floats, checked_mul(ceil_div(pixels, nr), kc * nr + t.panel_pad, "transposed GEMM B"),
      "transposed GEMM workspace");
  pl.tasks = checked_mul(rows_tasks, t.col_bands, "transposed tasks");
  pl.microkernel = gk.name;
}

TransposedGemmTask transposed_gemm_task(const Plan& pl, const LayerParams& p, int64_t t) {
  const TransposedGemmPlan& g = pl.tg;
  TransposedGemmTask k;
  int64_t r = t;
  const int64_t cb = r % g.col_bands; r /= g.col_bands;
  const int64_t band = r % g.bands; r /= g.bands;
  k.g = r % p.groups;
  k.n = r / p.groups;
  k.oh0 = band * g.bh;
  k.oh_n = std::min(g.bh, pl.out.height - k.oh0);
  k.ow0 = cb * g.bw;
  k.ow_n = std::min(g.bw, pl.out.width - k.ow0);
  return k;
}

}  // namespace simdconv
