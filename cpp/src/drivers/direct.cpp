// The direct driver (dense, grouped and depthwise): each task pads its band
// of output rows' input rows, for every input channel of the group, into
// per-thread scratch and runs the direct kernel over it; or, where the Plan
// says so, runs the in-place depthwise kernel on the input plane. The
// fused epilogue runs on the band's output rows once the kernel wrote them.
#include <algorithm>

#include "drivers.h"
#include "simdconv/thread_pool.h"

namespace simdconv {
namespace drivers {

void run_direct(const Plan& plan, const Call& c, const float* weight) {
  const LayerParams& p = c.p;
  const DirectPlan& d = plan.dp;
  const DirectKernel& dk = *plan.direct;
  const int64_t H = plan.shape.height, W = plan.shape.width;
  const int64_t cin_g = p.in_per_group(), cout_g = p.out_per_group();
  const int64_t kh_n = p.kernel_h, kw_n = p.kernel_w;
  const int64_t sh = p.stride_h, sw = p.stride_w, dh = p.dilation_h, dw = p.dilation_w;
  const int64_t OW = plan.out.width, P = plan.out.height * OW;
  const int64_t PS = d.PS, RS = d.RS, Wq = d.Wq, taps = d.taps;
  // Tap offsets into the band, in (ci, kh, kw) order as the weights; per
  // calling thread, reused across calls (the lambda below must use the
  // pointer: it names the caller's copy)
  thread_local std::vector<int64_t> tap_off_buf;
  const TrimOnExit<int64_t> trim_taps{tap_off_buf};
  tap_off_buf.resize(static_cast<size_t>(taps));
  int64_t* const tap_off = tap_off_buf.data();
  for (int64_t ci = 0, t = 0; ci < cin_g; ++ci)
    for (int64_t kh = 0; kh < kh_n; ++kh)
      for (int64_t kw = 0; kw < kw_n; ++kw, ++t)
        tap_off[t] = ci * PS + kh * dh * RS + (kw * dw) % sw * Wq + (kw * dw) / sw;
  const float* bias = c.bias;

  count_tasks(plan.tasks);
  parallel_for(size_t(plan.tasks), [&](size_t t) {
    const ScratchTrim trim;
    check_cancel(c.cancel);
    const DirectTask k = direct_task(plan, p, int64_t(t));
    if (d.dw_in_place != nullptr) {
      const float* plane = c.input + (k.n * p.in_channels + k.g) * H * W;
      for (int64_t j = 0; j < cout_g; ++j) {
        const int64_t oc = k.g * cout_g + j;
        d.dw_in_place(DwInPlaceArgs{plane, H, W, p.pad_top, p.pad_left, weight + oc * taps,
                                    bias ? bias + oc : nullptr,
                                    c.output + (k.n * p.out_channels + oc) * P, OW, k.oh0, k.oh_n});
        if (c.ep.active())
          apply_epilogue(c, c.output + (k.n * p.out_channels + oc) * P + k.oh0 * OW, k.oh_n, OW, OW);
      }
      return;
    }
    const int64_t rows = (k.oh_n - 1) * sh + d.reach;
    float* buf = scratch(d.band_n + kDirectSlack);
    for (int64_t ci = 0; ci < cin_g; ++ci) {
      const float* plane = c.input + (k.n * p.in_channels + k.g * cin_g + ci) * H * W;
      dk.pad_plane(PadPlaneArgs{plane, H, W, k.oh0 * sh, rows, p.pad_top, p.pad_left,
                                p.pad_right, sw, Wq, p.pad_mode, buf + ci * PS});
    }
    std::fill(buf + cin_g * PS, buf + cin_g * PS + kDirectSlack, 0.0f);
    DirectArgs a;
    a.in = buf;
    a.tap_off = tap_off;
    a.taps = taps;
    a.row_step = sh * RS;
    a.w = weight + k.g * cout_g * taps;
    a.bias = bias ? bias + k.g * cout_g : nullptr;
    a.out = c.output + (k.n * p.out_channels + k.g * cout_g) * P + k.oh0 * OW;
    a.out_stride = P;
    a.out_row_stride = OW;
    a.n_out = cout_g;
    a.out_h = k.oh_n;
    a.out_w = OW;
    if (sh == 1 && sw == 1) a.flat_n = (k.oh_n - 1) * RS + OW;
    if (cin_g == 1) {
      a.kernel_h = kh_n;
      a.kernel_w = kw_n;
      a.kh_step = dh * RS;
    }
    dk.fn(a);
    // the band's rows of each of the group's output channels: one run per channel
    if (c.ep.active())
      apply_epilogue(c, a.out, cout_g, k.oh_n * OW, P);
  });
}

}  // namespace drivers
}  // namespace simdconv
