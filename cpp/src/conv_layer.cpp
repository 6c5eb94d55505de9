#include "simdconv/conv_layer.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "simdconv/thread_pool.h"

namespace simdconv {

const char* algorithm_name(Algorithm a) {
  switch (a) {
    case Algorithm::Gemm: return "im2col-gemm";
    case Algorithm::Depthwise: return "depthwise-direct";
  }
  return "unknown";
}

Algorithm choose_algorithm(const LayerParams& p) {
  // One input channel per group: a GEMM with K = kH*kW and M = out/in would
  // be almost all packing, so the direct kernel wins.
  if (p.in_per_group() == 1) return Algorithm::Depthwise;
  return Algorithm::Gemm;
}

namespace {
// Per-thread scratch, grown on demand and reused across calls (no allocation
// per call in steady state). Bounded: a B block or one padded channel plane.
float* scratch(size_t elements) {
  thread_local std::vector<float> buf;
  if (buf.size() < elements) buf.resize(elements);
  return buf.data();
}
constexpr int64_t kMaxScratch = int64_t(1) << 31;

void check_cancel(CancelFlag c) {
  if (c.is_set()) throw Cancelled();
}
}  // namespace

ConvLayer::ConvLayer(const LayerParams& p, const float* weight, const float* bias, Isa isa)
    : p_(p), isa_(isa), algo_(choose_algorithm(p)) {
  p_.validate();
  gemm_ = gemm_kernel_for(isa);
  if (gemm_ == nullptr || !cpu_supports(isa))
    throw std::invalid_argument(std::string("ISA ") + isa_name(isa) + " is not available");
  weight_.assign(weight, weight + p_.weight_elements());
  if (bias) bias_.assign(bias, bias + p_.out_channels);
  if (algo_ == Algorithm::Gemm) packed_ = PackedWeights(p_, weight, gemm_->mr, gemm_->kc);
}

void ConvLayer::forward(const CallShape& s, const float* input, float* output,
                        CancelFlag cancel) const {
  const OutputSize o = output_size(p_, s);
  switch (algo_) {
    case Algorithm::Gemm: forward_gemm(s, o, input, output, cancel); break;
    case Algorithm::Depthwise: forward_depthwise(s, o, input, output, cancel); break;
  }
}

void ConvLayer::forward_gemm(const CallShape& s, OutputSize o, const float* input,
                             float* output, CancelFlag cancel) const {
  const int64_t M = p_.out_per_group(), K = p_.reduction(), P = o.height * o.width;
  const int64_t G = p_.groups, cin_g = p_.in_per_group();
  const int64_t mr = int64_t(gemm_->mr), nr = int64_t(gemm_->nr);
  const int64_t kc = int64_t(gemm_->kc);
  const int64_t threads = int64_t(get_num_threads());
  // Pixel blocks of at most nc; with several threads, the number of blocks
  // is rounded up to a multiple of the thread count so no thread idles at the
  // end (the split only moves tile boundaries: results do not change).
  int64_t nc = std::max(nr, int64_t(gemm_->nc) / nr * nr);
  int64_t p_tiles = (P + nc - 1) / nc;
  if (threads > 1) {
    const int64_t per_pix = s.batch * G;
    const int64_t total = per_pix * p_tiles;
    const int64_t want = (total + threads - 1) / threads * threads;
    const int64_t want_p = (want + per_pix - 1) / per_pix;
    if (want_p > p_tiles) {
      const int64_t nc2 = ((P + want_p - 1) / want_p + nr - 1) / nr * nr;
      if (nc2 >= nr) nc = nc2;
    }
  }
  // Even split of P into blocks of whole micro-panels.
  p_tiles = (P + nc - 1) / nc;
  nc = ((P + p_tiles - 1) / p_tiles + nr - 1) / nr * nr;
  p_tiles = (P + nc - 1) / nc;
  const int64_t m_panels = (M + mr - 1) / mr;
  // Split output channels too when pixels alone give too few tasks (batch 1,
  // small images, wide layers), so every thread has work.
  const int64_t base_tasks = s.batch * G * p_tiles;
  const int64_t want_tasks = threads > 1 ? 3 * threads : 1;
  const int64_t m_tiles = base_tasks >= want_tasks
                              ? 1
                              : std::min(m_panels, (want_tasks + base_tasks - 1) / base_tasks);
  const int64_t panels_per_mtile = (m_panels + m_tiles - 1) / m_tiles;
  const float* bias = bias_.empty() ? nullptr : bias_.data();
  const GemmUkernelFn ukernel = gemm_->fn;
  const PackIm2colFn pack = gemm_->pack;

  parallel_for(size_t(base_tasks * m_tiles), [&](size_t t) {
    check_cancel(cancel);
    int64_t r = int64_t(t);
    const int64_t mt = r % m_tiles; r /= m_tiles;
    const int64_t pt = r % p_tiles; r /= p_tiles;
    const int64_t g = r % G;
    const int64_t n = r / G;
    const int64_t mp_begin = mt * panels_per_mtile;
    const int64_t mp_end = std::min(m_panels, mp_begin + panels_per_mtile);
    if (mp_begin >= mp_end) return;
    const int64_t p0 = pt * nc, np = std::min(nc, P - p0);
    if (np <= 0) return;
    const Im2colSource src{input + (n * p_.in_channels + g * cin_g) * s.height * s.width,
                           s.height, s.width, o.width};
    float* out = output + (n * p_.out_channels + g * M) * P;
    // Micro-panels one or two cache lines apart beyond their size, so that the
    // rows of all panels written for one K step do not share an L1 set.
    const int64_t panel_pad = pack ? std::max<int64_t>(16, nr) : 0;
    float* bpack = scratch(size_t((std::min(kc, K) * nr + panel_pad) * ((np + nr - 1) / nr)));
    for (int64_t k0 = 0; k0 < K; k0 += kc) {
      const int64_t kc_len = std::min(kc, K - k0);
      const bool last = k0 + kc_len >= K;
      const int64_t panel_stride = kc_len * nr + panel_pad;
      if (pack) pack(p_, src, k0, kc_len, p0, np, panel_stride, bpack);
      else pack_im2col(p_, src, k0, kc_len, p0, np, size_t(nr), bpack);
      for (int64_t j = 0; j * nr < np; ++j) {
        const float* b = bpack + j * panel_stride;
        const size_t nrj = size_t(std::min(nr, np - j * nr));
        for (int64_t mp = mp_begin; mp < mp_end; ++mp) {
          const int64_t m = mp * mr;
          ukernel(size_t(kc_len), packed_.panel(g, k0, mp, kc_len), b,
                  out + m * P + p0 + j * nr, size_t(P), size_t(std::min(mr, M - m)), nrj,
                  k0 > 0, last && bias ? bias + g * M + m : nullptr);
        }
      }
    }
  });
}

void ConvLayer::forward_depthwise(const CallShape& s, OutputSize o, const float* input,
                                  float* output, CancelFlag cancel) const {
  const int64_t H = s.height, W = s.width;
  const int64_t Hp = H + p_.pad_top + p_.pad_bottom, Wp = W + p_.pad_left + p_.pad_right;
  if (Hp * Wp > kMaxScratch)
    throw std::length_error("padded input plane of " + std::to_string(Hp) + " x " +
                            std::to_string(Wp) + " is larger than 2^31 elements");
  const int64_t mult = p_.out_channels / p_.in_channels;  // outputs per input channel
  const int64_t kh_n = p_.kernel_h, kw_n = p_.kernel_w, taps = kh_n * kw_n;
  const int64_t P = o.height * o.width;
  parallel_for(size_t(s.batch * p_.in_channels), [&](size_t t) {
    check_cancel(cancel);
    const int64_t n = int64_t(t) / p_.in_channels, ic = int64_t(t) % p_.in_channels;
    // This channel, padded by its mode, in scratch: a plane, not the whole input.
    float* plane = scratch(size_t(Hp * Wp));
    const float* in = input + (n * p_.in_channels + ic) * H * W;
    for (int64_t y = 0; y < Hp; ++y) {
      const int64_t ih = map_index(y - p_.pad_top, H, p_.pad_mode);
      float* row = plane + y * Wp;
      for (int64_t x = 0; x < Wp; ++x) {
        const int64_t iw = map_index(x - p_.pad_left, W, p_.pad_mode);
        row[x] = (ih < 0 || iw < 0) ? 0.0f : in[ih * W + iw];
      }
    }
    for (int64_t m = 0; m < mult; ++m) {
      const int64_t oc = ic * mult + m;
      const float* w = weight_.data() + oc * taps;
      const float b = bias_.empty() ? 0.0f : bias_[size_t(oc)];
      float* out = output + (n * p_.out_channels + oc) * P;
      for (int64_t oh = 0; oh < o.height; ++oh) {
        float* orow = out + oh * o.width;
        std::fill(orow, orow + o.width, 0.0f);
        for (int64_t kh = 0; kh < kh_n; ++kh) {
          const float* prow = plane + (oh * p_.stride_h + kh * p_.dilation_h) * Wp;
          for (int64_t kw = 0; kw < kw_n; ++kw) {
            const float wv = w[kh * kw_n + kw];
            const float* src = prow + kw * p_.dilation_w;
            for (int64_t ow = 0; ow < o.width; ++ow) orow[ow] += wv * src[ow * p_.stride_w];
          }
        }
        for (int64_t ow = 0; ow < o.width; ++ow) orow[ow] += b;
      }
    }
  });
}

}  // namespace simdconv
