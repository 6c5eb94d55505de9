// The Winograd F(2x2, 3x3) driver (see winograd.h). A layer with dilation d
// is d*d undilated convolutions, one per phase (pr, pc) of the output grid
// (rows pr, pr+d, ..., columns pc, pc+d, ...), each reading every d-th
// padded row and column. Each task (WinogradTask: image, phase, block of
// tile rows, output-channel range) transforms its block's input (all
// channels: one padded, phase-split band per channel, then V), runs the 16
// GEMMs M[e] = U[e] V[e] with B read in place, and transforms M to output,
// then applies the fused epilogue to the rows of that output channel it
// wrote (with dilation d, on the phase's every d-th column only).
// Every output element is computed by one fixed sequence of operations
// whatever the blocking, so results do not depend on the thread count.
#include <algorithm>

#include "drivers.h"
#include "simdconv/thread_pool.h"

namespace simdconv {
namespace drivers {

void run_winograd(const Plan& plan, const Call& c, const std::vector<PackedWeights>& u) {
  const LayerParams& p = c.p;
  const WinogradPlan& w = plan.w;
  const GemmKernel& gk = *plan.gemm;
  const WinogradKernel& wk = *plan.winograd;
  const DirectKernel& dk = *plan.direct;
  const int64_t C = p.in_channels, M = p.out_channels, H = plan.shape.height, W = plan.shape.width;
  const int64_t OH = plan.out.height, OW = plan.out.width;
  const int64_t d = w.d, Wq = w.Wq, RS = w.RS;
  const int64_t mr = int64_t(gk.mr), nr = int64_t(gk.nr), kc = int64_t(gk.kc);
  const float* bias = c.bias;

  count_tasks(plan.tasks);
  parallel_for(size_t(plan.tasks), [&](size_t task) {
    const ScratchTrim trim;
    check_cancel(c.cancel);
    const WinogradTask k = winograd_task(plan, p, int64_t(task));
    if (k.empty) return;
    const int64_t mc = k.m_end - k.m_begin, nt = k.rows * k.tw;
    const int64_t v_plane = C * nt, m_plane = mc * nt;
    // one buffer: V, then M, then the band (zeroed once: pad_plane never
    // writes the columns and rows past the padded input)
    const int64_t band_n = w.band_rows * RS + kDirectSlack;
    float* v = scratch(16 * v_plane + 16 * m_plane + band_n);
    float* mbuf = v + 16 * v_plane;
    float* band = mbuf + 16 * m_plane;
    std::fill(band, band + band_n, 0.0f);
    // band row j is padded row y0 + j*d
    const int64_t y0 = 2 * k.th0 * d + k.pr, need = 2 * k.rows + 2;
    const int64_t valid = std::max<int64_t>(0, std::min(need, (w.Hp - y0 + d - 1) / d));
    for (int64_t ch = 0; ch < C; ++ch) {
      const float* plane = c.input + (k.n * C + ch) * H * W;
      if (valid > 0) {
        PadPlaneArgs pa{plane, H, W, y0, valid, p.pad_top, p.pad_left,
                        p.pad_right, w.S, Wq, p.pad_mode, band};
        pa.y_step = d;
        dk.pad_plane(pa);
      }
      wk.input(WinogradInputArgs{band + k.pc * Wq, RS, d * Wq, k.tw, k.rows, v + ch * nt, v_plane});
    }
    check_cancel(c.cancel);
    for (int e = 0; e < 16; ++e) {
      const PackedWeights& ue = u[size_t(e)];
      const float* ve = v + e * v_plane;
      float* me = mbuf + e * m_plane;
      for (int64_t k0 = 0; k0 < C; k0 += kc) {
        const int64_t kc_len = std::min(kc, C - k0);
        for (int64_t j = 0; j < nt; j += nr) {
          const size_t nrj = size_t(std::min(nr, nt - j));
          for (int64_t mp = k.mp_begin; mp < k.mp_end; ++mp) {
            const int64_t m = mp * mr;
            gk.fn_ldb(size_t(kc_len), ue.panel(0, k0, mp, kc_len), ve + k0 * nt + j, size_t(nt),
                      me + (m - k.m_begin) * nt + j, size_t(nt), size_t(std::min(mr, M - m)), nrj,
                      k0 > 0, nullptr);
          }
        }
      }
    }
    // The block's phase rows [2*th0, 2*th0 + 2*rows), those below sub_h; in
    // each, the phase's sub_w columns, d apart.
    const int64_t out_rows = std::min(2 * k.rows, k.sub_h - 2 * k.th0);
    for (int64_t oc = k.m_begin; oc < k.m_end; ++oc) {
      float* out = c.output + (k.n * M + oc) * OH * OW + (2 * k.th0 * d + k.pr) * OW + k.pc;
      wk.output(WinogradOutputArgs{mbuf + (oc - k.m_begin) * nt, m_plane, k.tw, k.rows,
                                   bias ? bias + oc : nullptr, out, d * OW, k.sub_h - 2 * k.th0,
                                   k.sub_w, d});
      if (c.ep.active()) apply_epilogue(c, out, out_rows, k.sub_w, d * OW, d);
    }
  });
}

}  // namespace drivers
}  // namespace simdconv
