// The transposed GEMM driver (ConvTranspose2d; plan.h: TransposedGemmPlan).
// A task owns a rectangle of output rows x columns of one image and group,
// for all the group's output channels. It multiplies A = W_g^T (M = Cout/g
// x kH x kW rows, K = Cin/g; packed once per layer) by B = the group's input
// at the pixels whose taps reach the rectangle (packed here into the
// kernel's NR panels), giving cols[m][pixel] with the GEMM microkernel; then
// every output element of the rectangle gathers the cols entries of its
// taps. No zero-stuffed input, and work follows the output: only reaching
// input pixels are multiplied. Every sum runs in one fixed order (per tap,
// the microkernel's FMA chain over input channels; then bias + taps in (kh,
// kw) order), whatever the rectangle, so results are bitwise the same at
// every thread count.
#include <algorithm>
#include <vector>

#include "drivers.h"
#include "simdconv/thread_pool.h"

namespace simdconv {
namespace drivers {
namespace {

// Rows [k0, k0 + kc_len) of B: the group's input channels (planes of H x W
// at `in`) at the pixels of the input rectangle rows [r0, ..) x columns
// [c0, c0 + cn), npix of them in row-major order, as NR-column micro-panels
// of kc_len x NR (GemmKernel's B layout), panel j at dst + j * stride.
// Columns past the last pixel are zero.
// `off`: room for nr offsets.
void pack_rect(const float* in, int64_t W, int64_t HW, int64_t k0, int64_t kc_len, int64_t r0,
               int64_t c0, int64_t cn, int64_t npix, int64_t nr, int64_t stride, float* dst,
               int64_t* off) {
  for (int64_t j0 = 0; j0 < npix; j0 += nr) {
    const int64_t nrj = std::min(nr, npix - j0);
    for (int64_t q = 0; q < nrj; ++q)
      off[q] = (r0 + (j0 + q) / cn) * W + c0 + (j0 + q) % cn;
    float* d = dst + (j0 / nr) * stride;
    for (int64_t k = 0; k < kc_len; ++k, d += nr) {
      const float* plane = in + (k0 + k) * HW;
      for (int64_t q = 0; q < nrj; ++q) d[q] = plane[off[q]];
      std::fill(d + nrj, d + nr, 0.0f);
    }
  }
}

}  // namespace

void run_transposed_gemm(const Plan& plan, const Call& c, const PackedWeights& a) {
  const GemmKernel& gk = *plan.gemm;
  const TransposedGemmPlan& tg = plan.tg;
  const LayerParams& p = c.p;
  const int64_t H = plan.shape.height, W = plan.shape.width, HW = H * W;
  const int64_t OH = plan.out.height, OW = plan.out.width;
  const int64_t K = p.in_per_group(), cout_g = p.out_per_group();
  const int64_t KH = p.kernel_h, KW = p.kernel_w, KK = KH * KW, M = tg.M;
  const int64_t nr = int64_t(gk.nr), kc = int64_t(gk.kc);
  const int64_t m_panels = (M + int64_t(gk.mr) - 1) / int64_t(gk.mr);

  count_tasks(plan.tasks);
  parallel_for(size_t(plan.tasks), [&](size_t t) {
    const ScratchTrim trim;
    check_cancel(c.cancel);
    const TransposedGemmTask k = transposed_gemm_task(plan, p, int64_t(t));
    const InputSpan rows = transposed_input_span(k.oh0, k.oh_n, p.pad_top, KH, p.dilation_h, p.stride_h, H);
    const InputSpan cols = transposed_input_span(k.ow0, k.ow_n, p.pad_left, KW, p.dilation_w, p.stride_w, W);
    const int64_t npix = rows.n * cols.n;  // <= tg.max_rows * tg.max_cols
    float* cbuf = scratch(plan.workspace_floats);
    float* bpack = cbuf + tg.cols_floats;
    std::vector<int64_t> off(static_cast<size_t>(nr));  // a B panel's pixels as offsets in a plane
    // cols[m][q] (row stride npix) for the rectangle's pixels q, all K in.
    const float* in = c.input + (k.n * p.in_channels + k.g * K) * HW;
    for (int64_t k0 = 0; k0 < K && npix > 0; k0 += kc) {
      const int64_t kc_len = std::min(kc, K - k0), stride = kc_len * nr + tg.panel_pad;
      pack_rect(in, W, HW, k0, kc_len, rows.lo, cols.lo, cols.n, npix, nr, stride, bpack, off.data());
      for (int64_t mb = 0; mb < m_panels; mb += tg.m_block) {
        const int64_t me = std::min(m_panels, mb + tg.m_block);
        for (int64_t j0 = 0; j0 < npix; j0 += nr)
          gemm_panel_column(gk, a, k.g, k0, kc_len, mb, me, M, bpack + (j0 / nr) * stride,
                            size_t(std::min(nr, npix - j0)), cbuf + j0, npix, nullptr);
      }
      check_cancel(c.cancel);
    }
    // col2im: each output element of the rectangle gathers its taps. The
    // input columns each kw reads for the task's output columns (output
    // column ow = iw * stride + shift[kw]), and per output row the input row
    // each kh reads (or -1), are the same for every output channel.
    std::vector<InputSpan> iw(static_cast<size_t>(KW));
    std::vector<int64_t> shift(static_cast<size_t>(KW)), ih(static_cast<size_t>(KH));
    for (int64_t kw = 0; kw < KW; ++kw) {
      shift[kw] = kw * p.dilation_w - p.pad_left;
      iw[kw] = transposed_input_span(k.ow0, k.ow_n, -shift[kw], 1, 1, p.stride_w, W);
    }
    const int64_t sw = p.stride_w;
    for (int64_t oh = k.oh0; oh < k.oh0 + k.oh_n; ++oh) {
      for (int64_t kh = 0; kh < KH; ++kh) {
        const InputSpan r = transposed_input_span(oh, 1, p.pad_top - kh * p.dilation_h, 1, 1, p.stride_h, H);
        ih[kh] = r.n == 0 ? -1 : r.lo;
      }
      for (int64_t j = 0; j < cout_g; ++j) {
        const int64_t oc = k.g * cout_g + j;
        float* row = c.output + ((k.n * p.out_channels + oc) * OH + oh) * OW;
        std::fill(row + k.ow0, row + k.ow0 + k.ow_n, c.bias ? c.bias[oc] : 0.0f);
        for (int64_t kh = 0; kh < KH; ++kh) {
          if (ih[kh] < 0) continue;
          const float* crow = cbuf + (j * KK + kh * KW) * npix + (ih[kh] - rows.lo) * cols.n;
          for (int64_t kw = 0; kw < KW; ++kw) {
            const float* src = crow + kw * npix;  // input column x at src[x - cols.lo]
            const int64_t sh = shift[kw], c0 = cols.lo, x1 = iw[kw].lo + iw[kw].n;
            for (int64_t x = iw[kw].lo; x < x1; ++x) row[x * sw + sh] += src[x - c0];
          }
        }
        // Row oh of channel oc is final over the task's columns (bias and
        // every tap in) and still in L1: the fused epilogue, once per element.
        if (c.ep.active()) apply_epilogue(c, row + k.ow0, 1, k.ow_n, OW);
      }
    }
  });
}

}  // namespace drivers
}  // namespace simdconv
