// The GEMM driver: implicit im2col + blocked GEMM over the Plan's tasks
// (GemmPlan: per-task B blocks, B read in place, or B shared per chunk).
// The fused epilogue runs on each panel column (NR pixels x the task's
// output channels) right after its last K block, on all three paths.
#include <algorithm>

#include "drivers.h"
#include "simdconv/thread_pool.h"

namespace simdconv {
namespace drivers {

// One B micro-panel (nrj columns) times A micro-panels [mp_begin, mp_end) of
// one K block: the narrow-tile kernel where it fits, else the microkernel.
// Rows [kk, kk + kl) of the K block (default: all of it; b holds just those
// rows).
void gemm_panel_column(const GemmKernel& gk, const PackedWeights& pw, int64_t g, int64_t k0,
                       int64_t kc_len, int64_t mp_begin, int64_t mp_end, int64_t M,
                       const float* b, size_t nrj, float* c, int64_t ldc,
                       const float* bias_g, int64_t kk, int64_t kl) {
  const int64_t mr = int64_t(gk.mr);
  if (kl < 0) kl = kc_len;
  const bool acc = k0 + kk > 0;
  // A micro-panel mp of the block stores its kc_len rows of mr weights in k order
  const auto a = [&](int64_t mp) { return pw.panel(g, k0, mp, kc_len) + kk * mr; };
  if (gk.tail != nullptr && nrj <= gk.tail_nr) {
    const int64_t step = int64_t(gk.tail_panels);
    for (int64_t mp = mp_begin; mp < mp_end; mp += step) {
      const int64_t n = std::min(step, mp_end - mp), m = mp * mr;
      gk.tail(size_t(kl), a(mp), size_t(mr * kc_len), size_t(n), b, c + m * ldc, size_t(ldc),
              size_t(std::min(n * mr, M - m)), nrj, acc, bias_g ? bias_g + m : nullptr);
    }
    return;
  }
  for (int64_t mp = mp_begin; mp < mp_end; ++mp) {
    const int64_t m = mp * mr;
    gk.fn(size_t(kl), a(mp), b, c + m * ldc, size_t(ldc), size_t(std::min(mr, M - m)), nrj, acc,
          bias_g ? bias_g + m : nullptr);
  }
}

namespace {

// The epilogue on one finished panel column: output-channel rows of panels
// [mp_begin, mp_end) of the group, nrj pixels at c (out + first pixel), while
// the tile the last K block wrote is still in L1.
inline void epilogue_panel_column(const Call& cl, int64_t mr, int64_t mp_begin, int64_t mp_end,
                                  int64_t M, float* c, int64_t ldc, int64_t nrj) {
  const int64_t m0 = mp_begin * mr;
  apply_epilogue(cl, c + m0 * ldc, std::min(M, mp_end * mr) - m0, nrj, ldc);
}

// B (k, q) is input channel k at pixel q: the kernel reads it in place. A
// last panel narrow enough for the tail kernel is packed (one panel) and
// runs there, as on the packed path.
void in_place_task(const GemmKernel& gk, const Call& c, const PackedWeights& packed,
                   const Im2colSource& src, const GemmTask& k, int64_t P, int64_t panel_pad,
                   float* bpack, float* out) {
  const LayerParams& p = c.p;
  const int64_t M = p.out_per_group(), K = p.reduction();
  const int64_t mr = int64_t(gk.mr), nr = int64_t(gk.nr), kc = int64_t(gk.kc);
  const int64_t HW = src.height * src.width;
  const float* bias_g = c.bias ? c.bias + k.g * M : nullptr;
  for (int64_t k0 = 0; k0 < K; k0 += kc) {
    const int64_t kc_len = std::min(kc, K - k0);
    const bool last = k0 + kc_len >= K;
    for (int64_t j = 0; j * nr < k.np; ++j) {
      const int64_t q = k.p0 + j * nr, nrj = std::min(nr, k.np - j * nr);
      // K in sub-blocks of kc_ldb: the rows of a strided B tile then fit in
      // L1 across the output-channel panels. (The same sub-blocks on both
      // branches: whether the last columns take the tail kernel depends on
      // the thread count, their sums must not.)
      const int64_t ks = int64_t(gk.kc_ldb);
      const bool tail = gk.tail != nullptr && nrj <= int64_t(gk.tail_nr);
      for (int64_t kk = 0; kk < kc_len; kk += ks) {
        const int64_t kl = std::min(ks, kc_len - kk);
        const float* bias_fin = last && kk + kl >= kc_len ? bias_g : nullptr;
        if (tail) {
          gk.pack(p, src, k0 + kk, kl, q, nrj, kl * nr + panel_pad, bpack);
          gemm_panel_column(gk, packed, k.g, k0, kc_len, k.mp_begin, k.mp_end, M, bpack,
                            size_t(nrj), out + q, P, bias_fin, kk, kl);
          continue;
        }
        for (int64_t mp = k.mp_begin; mp < k.mp_end; ++mp) {
          const int64_t m = mp * mr;
          gk.fn_ldb(size_t(kl), packed.panel(k.g, k0, mp, kc_len) + kk * mr,
                    src.input + (k0 + kk) * HW + q, size_t(HW), out + m * P + q, size_t(P),
                    size_t(std::min(mr, M - m)), size_t(nrj), k0 + kk > 0,
                    bias_fin ? bias_fin + m : nullptr);
        }
      }
      if (last && c.ep.active()) epilogue_panel_column(c, mr, k.mp_begin, k.mp_end, M, out + q, P, nrj);
    }
  }
}

// B packed once per pixel chunk (all K blocks, in parallel) into a buffer
// of the calling thread, then the multiply tasks share it.
void run_gemm_shared(const Plan& plan, const Call& c, const PackedWeights& packed) {
  const GemmKernel& gk = *plan.gemm;
  const GemmPlan& gp = plan.g;
  const LayerParams& p = c.p;
  const int64_t M = p.out_per_group(), K = p.reduction(), P = plan.out.height * plan.out.width;
  const int64_t cin_g = p.in_per_group();
  const int64_t nr = int64_t(gk.nr), kc = int64_t(gk.kc);
  float* shared = shared_scratch(gp.shared_floats);
  const int64_t kblocks = gp.kblocks, panel_pad = gp.panel_pad;

  for (int64_t n = 0; n < plan.shape.batch; ++n)
    for (int64_t g = 0; g < p.groups; ++g)
      for (int64_t ch = 0; ch < gp.chunks; ++ch) {
        const SharedChunk chunk = shared_chunk(gp, P, nr, ch);
        const int64_t panels = chunk.panels, p0 = chunk.p0, np = chunk.np;
        const SharedChunkSplit sp = shared_chunk_split(gp, plan.threads, panels);
        const Im2colSource src{c.input + (n * p.in_channels + g * cin_g) * plan.shape.height *
                                             plan.shape.width,
                               plan.shape.height, plan.shape.width, plan.out.width};
        float* out = c.output + (n * p.out_channels + g * M) * P;
        // K block kb starts at block_base(kb); its panel j at + j * (kc_len*nr + pad).
        auto block_base = [&](int64_t kb) { return shared + kb * panels * (kc * nr + panel_pad); };
        // Phase 1: pack (K blocks x panel ranges).
        count_tasks(kblocks * sp.psplit);
        parallel_for(size_t(kblocks * sp.psplit), [&](size_t t) {
          check_cancel(c.cancel);
          const int64_t kb = int64_t(t) / sp.psplit, ps = int64_t(t) % sp.psplit;
          const int64_t j0 = ps * sp.pper, j1 = std::min(panels, j0 + sp.pper);
          if (j0 >= j1) return;
          const int64_t k0 = kb * kc, kc_len = std::min(kc, K - k0);
          const int64_t stride = kc_len * nr + panel_pad;
          const int64_t q0 = p0 + j0 * nr, nq = std::min((j1 - j0) * nr, p0 + np - q0);
          gk.pack(p, src, k0, kc_len, q0, nq, stride, block_base(kb) + j0 * stride);
        });
        // Phase 2: multiply (output-channel tiles x panel ranges), every task
        // over all K blocks in order.
        count_tasks(sp.m_tiles * sp.n_split);
        parallel_for(size_t(sp.m_tiles * sp.n_split), [&](size_t t) {
          check_cancel(c.cancel);
          const int64_t mt = int64_t(t) / sp.n_split, ns = int64_t(t) % sp.n_split;
          const int64_t mp_begin = mt * sp.mper, mp_end = std::min(gp.m_panels, mp_begin + sp.mper);
          const int64_t j0 = ns * sp.nper, j1 = std::min(panels, j0 + sp.nper);
          if (mp_begin >= mp_end || j0 >= j1) return;
          for (int64_t kb = 0; kb < kblocks; ++kb) {
            const int64_t k0 = kb * kc, kc_len = std::min(kc, K - k0);
            const bool last = kb + 1 == kblocks;
            const int64_t stride = kc_len * nr + panel_pad;
            const float* base = block_base(kb);
            for (int64_t j = j0; j < j1; ++j) {
              const size_t nrj = size_t(std::min(nr, np - j * nr));
              gemm_panel_column(gk, packed, g, k0, kc_len, mp_begin, mp_end, M, base + j * stride,
                                nrj, out + p0 + j * nr, P, last && c.bias ? c.bias + g * M : nullptr);
              if (last && c.ep.active())
                epilogue_panel_column(c, int64_t(gk.mr), mp_begin, mp_end, M, out + p0 + j * nr, P,
                                      int64_t(nrj));
            }
          }
        });
      }
}

}  // namespace

void run_gemm(const Plan& plan, const Call& c, const PackedWeights& packed) {
  if (plan.g.shared_b) {
    run_gemm_shared(plan, c, packed);
    return;
  }
  const GemmKernel& gk = *plan.gemm;
  const GemmPlan& gp = plan.g;
  const LayerParams& p = c.p;
  const int64_t M = p.out_per_group(), K = p.reduction(), P = plan.out.height * plan.out.width;
  const int64_t cin_g = p.in_per_group();
  const int64_t nr = int64_t(gk.nr), kc = int64_t(gk.kc);
  const int64_t panel_pad = gp.panel_pad;

  count_tasks(plan.tasks);
  parallel_for(size_t(plan.tasks), [&](size_t t) {
    const ScratchTrim trim;
    check_cancel(c.cancel);
    const GemmTask k = gemm_task(plan, p, int64_t(t));
    if (k.mp_begin >= k.mp_end || k.np <= 0) return;
    const Im2colSource src{c.input + (k.n * p.in_channels + k.g * cin_g) * plan.shape.height *
                                         plan.shape.width,
                           plan.shape.height, plan.shape.width, plan.out.width};
    float* out = c.output + (k.n * p.out_channels + k.g * M) * P;
    float* bpack = scratch((std::min(kc, K) * nr + panel_pad) * ((k.np + nr - 1) / nr));
    if (gp.b_in_place) {
      in_place_task(gk, c, packed, src, k, P, panel_pad, bpack, out);
      return;
    }
    for (int64_t k0 = 0; k0 < K; k0 += kc) {
      const int64_t kc_len = std::min(kc, K - k0);
      const bool last = k0 + kc_len >= K;
      const int64_t panel_stride = kc_len * nr + panel_pad;
      gk.pack(p, src, k0, kc_len, k.p0, k.np, panel_stride, bpack);
      for (int64_t j = 0; j * nr < k.np; ++j) {
        const size_t nrj = size_t(std::min(nr, k.np - j * nr));
        gemm_panel_column(gk, packed, k.g, k0, kc_len, k.mp_begin, k.mp_end, M,
                          bpack + j * panel_stride, nrj, out + k.p0 + j * nr, P,
                          last && c.bias ? c.bias + k.g * M : nullptr);
        if (last && c.ep.active())
          epilogue_panel_column(c, int64_t(gk.mr), k.mp_begin, k.mp_end, M, out + k.p0 + j * nr, P,
                                int64_t(nrj));
      }
    }
  });
}

}  // namespace drivers
}  // namespace simdconv
