#include "simdconv/conv_layer.h"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>

#include "simdconv/checked_math.h"
#include "simdconv/thread_pool.h"

namespace simdconv {

const char* algorithm_name(Algorithm a) {
  switch (a) {
    case Algorithm::Gemm: return "im2col-gemm";
    case Algorithm::Depthwise: return "depthwise-direct";
    case Algorithm::GroupedDirect: return "grouped-direct";
    case Algorithm::Direct: return "direct";
    case Algorithm::Winograd: return "winograd-2x2";
  }
  return "unknown";
}

Algorithm choose_algorithm(const LayerParams& p) { return choose_algorithm(p, active_isa()); }

bool winograd_applies(const LayerParams& p, Isa isa) {
  const GemmKernel* gk = gemm_kernel_for(isa);
  return winograd_kernel_for(isa) != nullptr && gk != nullptr && gk->fn_ldb != nullptr &&
         p.kernel_h == 3 && p.kernel_w == 3 && p.stride_h == 1 && p.stride_w == 1 &&
         p.dilation_h == p.dilation_w && p.groups == 1;
}

Algorithm choose_algorithm(const LayerParams& p, Isa isa) {
  // One input channel per group: a GEMM with K = kH*kW and M = out/in would
  // be almost all packing, so the direct kernel wins.
  if (p.in_per_group() == 1) return Algorithm::Depthwise;
  // A few channels per group (ResNeXt: 4 in, 4 out): a per-group GEMM would
  // fill a fraction of its register tile and pack B for a tiny M, while the
  // direct kernel feeds every input load to several output channels.
  if (p.groups > 1 && p.in_per_group() <= 16 && p.out_per_group() <= 16)
    return Algorithm::GroupedDirect;
  // 3x3 stride 1 with enough channels on both sides: Winograd F(2x2, 3x3)
  // does 16 products per 2x2 outputs instead of 36 (measured 1.3-1.9x the
  // direct kernel and the GEMM from 32 channels on); its transforms are paid
  // per channel, so few channels would not amortise them (16: 0.6x direct).
  if (winograd_applies(p, isa) && p.in_channels >= 32 && p.out_channels >= 32)
    return Algorithm::Winograd;
  // A 2-D kernel over a modest number of input channels: the direct kernel
  // reads the taps straight from a padded copy of the input (no im2col
  // packing) and measured faster than the GEMM on this suite (stem, 5x5,
  // CIFAR, 3x3 under 32 channels). Deep reductions (Cin > 128) and 1-D / 1x1
  // kernels stay on the GEMM, whose B panel lives in L1.
  const bool simd = isa == Isa::Avx2 || isa == Isa::Avx512;
  if (simd && p.kernel_h >= 2 && p.kernel_w >= 2 && p.in_per_group() <= 128)
    return p.groups > 1 ? Algorithm::GroupedDirect : Algorithm::Direct;
  return Algorithm::Gemm;
}

namespace {
std::atomic<int64_t> g_tasks{0}, g_scratch_peak{0};
std::atomic<int> g_last_run{0};

void count_tasks(int64_t n) { g_tasks.fetch_add(n, std::memory_order_relaxed); }
void note_scratch(int64_t floats) {
  int64_t peak = g_scratch_peak.load(std::memory_order_relaxed);
  while (floats > peak &&
         !g_scratch_peak.compare_exchange_weak(peak, floats, std::memory_order_relaxed)) {
  }
}

// Per-thread scratch, grown on demand and reused across calls (no allocation
// per call in steady state). A B block or one padded band: small for the
// usual layers; one that grew past kKeepScratchFloats (a very wide image) is
// released when its task ends (ScratchTrim), so that one call does not pin
// that memory in every pool thread for the life of the process.
std::vector<float>& scratch_buffer() {
  thread_local std::vector<float> buf;
  return buf;
}
float* scratch(int64_t elements) {
  note_scratch(elements);
  std::vector<float>& buf = scratch_buffer();
  if (buf.size() < size_t(elements)) buf.resize(size_t(elements));
  return buf.data();
}
// Releases a per-thread buffer that grew past kKeepScratchFloats (in bytes:
// 4 per float) when the scope ends, normally or by an exception (cancel).
template <class T>
struct TrimOnExit {
  std::vector<T>& buf;
  ~TrimOnExit() {
    if (int64_t(buf.capacity() * sizeof(T)) > kKeepScratchFloats * int64_t(sizeof(float)))
      std::vector<T>().swap(buf);
  }
};
// The task-local form: every parallel_for task that takes scratch() holds one.
struct ScratchTrim : TrimOnExit<float> {
  ScratchTrim() : TrimOnExit<float>{scratch_buffer()} {}
};
constexpr int64_t kMaxScratch = int64_t(1) << 31;
// The B operand packed once and shared by the threads (forward_gemm_shared):
// at most 8 MiB (= kKeepScratchFloats, so it is kept), owned by the calling
// thread and reused across calls.
constexpr int64_t kMaxSharedB = int64_t(2) << 20;  // floats
static_assert(kMaxSharedB <= kKeepScratchFloats, "the shared B buffer is kept across calls");
std::vector<float>& shared_scratch_buffer() {
  thread_local std::vector<float> buf;
  return buf;
}
float* shared_scratch(int64_t elements) {
  note_scratch(elements);
  std::vector<float>& buf = shared_scratch_buffer();
  if (buf.size() < size_t(elements)) buf.resize(size_t(elements));
  return buf.data();
}

// A padding or dilated kernel extent above this many elements can make the
// Winograd path's phase rows outgrow the output (see
// ConvLayer::cost_follows_output); up to it, they are at most a small
// constant factor larger than the rows the output reads, so only such
// layers keep their raw weights for the GEMM fallback.
constexpr int64_t kLargeGeometry = 64;
bool geometry_may_outgrow_output(const LayerParams& p) {
  return std::max({p.pad_top, p.pad_bottom, p.pad_left, p.pad_right,
                   p.dilation_h * (p.kernel_h - 1), p.dilation_w * (p.kernel_w - 1)}) >
         kLargeGeometry;
}

// Whether a 1x1 layer's kernel should read B in place (see b_in_place_)
// rather than from packed panels, measured on Zen 5 (1 thread): in place
// wins 10-40% when the reduction is short (<= 64 channels: its rows stay in
// L1 across the output-channel panels) or when the group's input is larger
// than L2 (packing it would stream it from L3 once more); it loses 5-25%
// when the input sits in L2 anyway, and when the channel planes are a
// multiple of 4 KiB apart (rows of one tile then share a few L1 sets).
bool b_in_place_pays(int64_t channels, int64_t plane) {
  const int64_t bytes = plane * int64_t(sizeof(float));
  if (bytes % 64 == 0) {
    int64_t lines = (bytes / 64) % 64, g = 64;  // gcd(lines, 64): 64 / g sets of the 64
    while (lines != 0) { const int64_t t = g % lines; g = lines; lines = t; }
    if (g > 4) return false;
  }
  return channels <= 64 || channels * bytes > (int64_t(1) << 20);
}

void check_cancel(CancelFlag c) {
  if (c.is_set()) throw Cancelled();
}

// One B micro-panel (nrj columns) times A micro-panels [mp_begin, mp_end) of
// one K block: the narrow-tile kernel where it fits, else the microkernel.
// Rows [kk, kk + kl) of the K block (default: all of it; b holds just those
// rows).
inline void gemm_panel_column(const GemmKernel& gk, const PackedWeights& pw, int64_t g, int64_t k0,
                              int64_t kc_len, int64_t mp_begin, int64_t mp_end, int64_t M,
                              const float* b, size_t nrj, float* c, int64_t ldc,
                              const float* bias_g, int64_t kk = 0, int64_t kl = -1) {
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
}  // namespace

CostCounters cost_counters() {
  CostCounters c;
  c.tasks = g_tasks.load(std::memory_order_relaxed);
  c.scratch_peak = g_scratch_peak.load(std::memory_order_relaxed);
  c.last_run = Algorithm(g_last_run.load(std::memory_order_relaxed));
  return c;
}

void reset_cost_counters() {
  g_tasks.store(0, std::memory_order_relaxed);
  g_scratch_peak.store(0, std::memory_order_relaxed);
}

int64_t retained_scratch_floats() {
  return int64_t(scratch_buffer().capacity() + shared_scratch_buffer().capacity());
}

ConvLayer::ConvLayer(const LayerParams& p, const float* weight, const float* bias, Isa isa)
    : ConvLayer(p, weight, bias, isa, (p.validate(), choose_algorithm(p, isa))) {}

ConvLayer::ConvLayer(const LayerParams& p, const float* weight, const float* bias, Isa isa,
                     Algorithm algo)
    : p_(p), isa_(isa), algo_(algo) {
  p_.validate();
  if (algo_ == Algorithm::Depthwise && p_.in_per_group() != 1)
    throw std::invalid_argument("the depthwise algorithm needs one input channel per group");
  if (algo_ != Algorithm::Gemm && algo_ != Algorithm::Depthwise &&
      algo_ != Algorithm::GroupedDirect && algo_ != Algorithm::Direct &&
      algo_ != Algorithm::Winograd)
    throw std::invalid_argument("unknown algorithm");
  if (algo_ == Algorithm::Winograd && !winograd_applies(p_, isa))
    throw std::invalid_argument("the Winograd algorithm needs a 3x3, stride-1, ungrouped layer "
                                "with equal dilations and an ISA with its kernels");
  gemm_ = gemm_kernel_for(isa);
  if (gemm_ == nullptr || !cpu_supports(isa))
    throw std::invalid_argument(std::string("ISA ") + isa_name(isa) + " is not available");
  direct_ = direct_kernel_for(isa);
  if (direct_ == nullptr) direct_ = &kDirectScalar;
  if (bias) bias_.assign(bias, bias + p_.out_channels);
  // One copy of the weights: packed panels for the GEMM, PyTorch's layout for
  // the direct kernels.
  if (algo_ == Algorithm::Gemm) {
    packed_ = PackedWeights(p_, weight, gemm_->mr, gemm_->kc);
  } else if (algo_ == Algorithm::Winograd) {
    wino_ = winograd_kernel_for(isa);
    const int64_t C = p_.in_channels, M = p_.out_channels;
    std::vector<float> u(size_t(16 * M * C));  // [xi*4+nu][o][c]
    float t[16];
    for (int64_t o = 0; o < M; ++o)
      for (int64_t c = 0; c < C; ++c) {
        winograd_weight_transform(weight + (o * C + c) * 9, t);
        for (int e = 0; e < 16; ++e) u[size_t((e * M + o) * C + c)] = t[e];
      }
    LayerParams pw;  // each U matrix packs as a 1x1 layer's weights [M][C]
    pw.in_channels = C;
    pw.out_channels = M;
    wino_u_.reserve(16);
    for (int e = 0; e < 16; ++e)
      wino_u_.emplace_back(pw, u.data() + size_t(e * M * C), gemm_->mr, gemm_->kc);
  } else {
    weight_.assign(weight, weight + p_.weight_elements());
  }
  b_in_place_ = algo_ == Algorithm::Gemm && gemm_->fn_ldb != nullptr && p_.kernel_h == 1 &&
                p_.kernel_w == 1 && p_.stride_h == 1 && p_.stride_w == 1 && p_.pad_top == 0 &&
                p_.pad_bottom == 0 && p_.pad_left == 0 && p_.pad_right == 0;
  if (algo_ == Algorithm::Winograd && geometry_may_outgrow_output(p_))
    weight_.assign(weight, weight + p_.weight_elements());  // for the GEMM fallback
}

void ConvLayer::forward(const CallShape& s, const float* input, float* output,
                        CancelFlag cancel) const {
  const OutputSize o = output_size(p_, s);
  if (algo_ != Algorithm::Gemm && !weight_.empty() && !cost_follows_output(s, o)) {
    // Packing the weights costs one pass over them, less than the call.
    const ConvLayer gemm(p_, weight_.data(), bias_.empty() ? nullptr : bias_.data(), isa_,
                         Algorithm::Gemm);
    gemm.forward(s, input, output, cancel);
    return;
  }
  g_last_run.store(int(algo_), std::memory_order_relaxed);
  switch (algo_) {
    case Algorithm::Gemm: forward_gemm(s, o, input, output, cancel); break;
    case Algorithm::Depthwise:
    case Algorithm::GroupedDirect:
    case Algorithm::Direct: forward_direct(s, o, input, output, cancel); break;
    case Algorithm::Winograd: forward_winograd(s, o, input, output, cancel); break;
  }
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
bool ConvLayer::cost_follows_output(const CallShape& s, OutputSize o) const {
  const int64_t Wp = s.width + p_.pad_left + p_.pad_right;  // <= 3 * 2^31 (output_size)
  if (algo_ == Algorithm::Winograd) {
    // Padded floats per channel and image: each of the phases_w column
    // phases pads every d-th row of the rows its tiles read (about OH, plus
    // two halo rows per tile-row block) at the full padded width RS.
    const int64_t d = p_.dilation_h, S = 2 * d;
    const int64_t phases_h = std::min(d, o.height), phases_w = std::min(d, o.width);
    const int64_t tw_n = ((o.width + d - 1) / d + 1) / 2;
    const int64_t RS = S * std::max((Wp + S - 1) / S, tw_n + 1);
    const int64_t limit = saturating_product({16, o.height, o.width}) / 2 + (int64_t(1) << 16);
    return product_or_neg({phases_w, o.height + 2 * phases_h, RS}, limit) >= 0;
  }
  // Direct: the band of one output row is `reach` padded rows of RS floats
  // per input channel of the group; that output row reads the group's
  // reduction (Cin/groups x kH x kW) times OW of them.
  const int64_t sw = p_.stride_w, RS = sw * ((Wp + sw - 1) / sw);
  const int64_t reach = (p_.kernel_h - 1) * p_.dilation_h + 1;  // <= 2^62 + 1
  const int64_t reads = saturating_product({8, p_.reduction(), o.width});
  const int64_t limit = std::min(reads, INT64_MAX / 2) + (int64_t(1) << 16);
  return product_or_neg({p_.in_per_group(), reach, RS}, limit) >= 0;
}

void ConvLayer::forward_gemm(const CallShape& s, OutputSize o, const float* input,
                             float* output, CancelFlag cancel) const {
  const int64_t M = p_.out_per_group(), K = p_.reduction(), P = o.height * o.width;
  const int64_t G = p_.groups, cin_g = p_.in_per_group();
  const int64_t mr = int64_t(gemm_->mr), nr = int64_t(gemm_->nr);
  const int64_t kc = int64_t(gemm_->kc);
  const int64_t threads = int64_t(get_num_threads());
  // Pixel blocks of about nc; with several threads, the number of blocks
  // is rounded up to a multiple of the thread count so no thread idles at the
  // end (the split only moves tile boundaries: results do not change).
  // Blocks end on a multiple of gran columns: the AVX-512 kernel runs a
  // tile of <= 16 columns at half cost, so 16-column steps balance the threads.
  const int64_t gran = (nr > 16 && nr % 16 == 0) ? 16 : nr;
  // Cost of a block of n pixels in microkernel tiles: a last tile of <= 16
  // columns runs at half cost, one the narrow-tile kernel takes at ~1/4.
  const auto block_cost = [&](int64_t n) {
    const int64_t rem = n % nr;
    double c = double(n / nr);
    if (rem > 0)
      c += gemm_->tail && rem <= int64_t(gemm_->tail_nr) ? 0.25 : rem <= gran ? 0.5 : 1.0;
    return c;
  };
  int64_t nc = std::max(nr, int64_t(gemm_->nc) / nr * nr);
  int64_t p_tiles = (P + nc - 1) / nc;
  // Even split of P into blocks of whole gran steps (the last block takes
  // the rest: it may be the shorter or, after the search below, the longer).
  nc = ((P + p_tiles - 1) / p_tiles + gran - 1) / gran * gran;
  p_tiles = (P + nc - 1) / nc;
  if (threads > 1) {
    const int64_t per_pix = s.batch * G;
    const int64_t total = per_pix * p_tiles;
    const int64_t want = (total + threads - 1) / threads * threads;
    const int64_t want_p = (want + per_pix - 1) / per_pix;
    if (want_p > p_tiles) {
      // want_p blocks: the block size (a multiple of gran, at least nr) whose
      // slowest block is cheapest.
      double best = 0;
      int64_t best_nc = 0;
      const int64_t hi = (P + want_p - 1) / want_p + gran;
      for (int64_t c = nr; c <= hi; c += gran) {
        const int64_t last = P - (want_p - 1) * c;
        if (last <= 0) break;
        const double cost = std::max(block_cost(c), block_cost(last));
        if (best_nc == 0 || cost < best) best = cost, best_nc = c;
      }
      if (best_nc > 0) nc = best_nc, p_tiles = want_p;
    }
  }
  const int64_t m_panels = (M + mr - 1) / mr;
  // Split output channels too when pixels alone give too few tasks (batch 1,
  // small images, wide layers), so every thread has work. When the pixel
  // blocks already split evenly over the threads, each task packs its own B
  // and runs all output channels: no B packed twice, no barrier, and no B
  // handed between cores (measured faster than sharing B on 2 cores).
  const int64_t base_tasks = s.batch * G * p_tiles;
  const int64_t want_tasks =
      threads > 1 ? (base_tasks % threads == 0 ? threads : 3 * threads) : 1;
  const bool in_place = b_in_place_ && b_in_place_pays(cin_g, s.height * s.width);
  // (B read in place is never packed, so splitting output channels costs nothing.)
  if (threads > 1 && base_tasks < want_tasks && m_panels > 1 && !in_place &&
      forward_gemm_shared(s, o, input, output, cancel))
    return;
  const int64_t m_tiles = base_tasks >= want_tasks
                              ? 1
                              : std::min(m_panels, (want_tasks + base_tasks - 1) / base_tasks);
  const int64_t panels_per_mtile = (m_panels + m_tiles - 1) / m_tiles;
  const float* bias = bias_.empty() ? nullptr : bias_.data();
  const PackIm2colFn pack = gemm_->pack;

  count_tasks(base_tasks * m_tiles);
  parallel_for(size_t(base_tasks * m_tiles), [&](size_t t) {
    const ScratchTrim trim;
    check_cancel(cancel);
    int64_t r = int64_t(t);
    const int64_t mt = r % m_tiles; r /= m_tiles;
    const int64_t pt = r % p_tiles; r /= p_tiles;
    const int64_t g = r % G;
    const int64_t n = r / G;
    const int64_t mp_begin = mt * panels_per_mtile;
    const int64_t mp_end = std::min(m_panels, mp_begin + panels_per_mtile);
    if (mp_begin >= mp_end) return;
    const int64_t p0 = pt * nc, np = pt + 1 == p_tiles ? P - p0 : std::min(nc, P - p0);
    if (np <= 0) return;
    const Im2colSource src{input + (n * p_.in_channels + g * cin_g) * s.height * s.width,
                           s.height, s.width, o.width};
    float* out = output + (n * p_.out_channels + g * M) * P;
    // Micro-panels one or two cache lines apart beyond their size, so that the
    // rows of all panels written for one K step do not share an L1 set.
    const int64_t panel_pad = pack ? std::max<int64_t>(16, nr) : 0;
    float* bpack = scratch((std::min(kc, K) * nr + panel_pad) * ((np + nr - 1) / nr));
    if (in_place) {
      // B (k, q) is input channel k at pixel q: the kernel reads it in place.
      // A last panel narrow enough for the tail kernel is packed (one panel)
      // and runs there, as on the packed path.
      const int64_t HW = s.height * s.width;
      const float* bias_g = bias ? bias + g * M : nullptr;
      for (int64_t k0 = 0; k0 < K; k0 += kc) {
        const int64_t kc_len = std::min(kc, K - k0);
        const bool last = k0 + kc_len >= K;
        for (int64_t j = 0; j * nr < np; ++j) {
          const int64_t q = p0 + j * nr, nrj = std::min(nr, np - j * nr);
          // K in sub-blocks of kc_ldb: the rows of a strided B tile then fit
          // in L1 across the output-channel panels. (The same sub-blocks on
          // both branches: whether the last columns take the tail kernel
          // depends on the thread count, their sums must not.)
          const int64_t ks = int64_t(gemm_->kc_ldb);
          const bool tail = gemm_->tail != nullptr && nrj <= int64_t(gemm_->tail_nr);
          for (int64_t kk = 0; kk < kc_len; kk += ks) {
            const int64_t kl = std::min(ks, kc_len - kk);
            const float* bias_fin = last && kk + kl >= kc_len ? bias_g : nullptr;
            if (tail) {
              pack(p_, src, k0 + kk, kl, q, nrj, kl * nr + panel_pad, bpack);
              gemm_panel_column(*gemm_, packed_, g, k0, kc_len, mp_begin, mp_end, M, bpack,
                                size_t(nrj), out + q, P, bias_fin, kk, kl);
              continue;
            }
            for (int64_t mp = mp_begin; mp < mp_end; ++mp) {
              const int64_t m = mp * mr;
              gemm_->fn_ldb(size_t(kl), packed_.panel(g, k0, mp, kc_len) + kk * mr,
                            src.input + (k0 + kk) * HW + q, size_t(HW), out + m * P + q, size_t(P),
                            size_t(std::min(mr, M - m)), size_t(nrj), k0 + kk > 0,
                            bias_fin ? bias_fin + m : nullptr);
            }
          }
        }
      }
      return;
    }
    for (int64_t k0 = 0; k0 < K; k0 += kc) {
      const int64_t kc_len = std::min(kc, K - k0);
      const bool last = k0 + kc_len >= K;
      const int64_t panel_stride = kc_len * nr + panel_pad;
      if (pack) pack(p_, src, k0, kc_len, p0, np, panel_stride, bpack);
      else pack_im2col(p_, src, k0, kc_len, p0, np, size_t(nr), bpack);
      for (int64_t j = 0; j * nr < np; ++j) {
        const float* b = bpack + j * panel_stride;
        const size_t nrj = size_t(std::min(nr, np - j * nr));
        gemm_panel_column(*gemm_, packed_, g, k0, kc_len, mp_begin, mp_end, M, b, nrj,
                          out + p0 + j * nr, P, last && bias ? bias + g * M : nullptr);
      }
    }
  });
}

// Few pixel blocks and several threads (batch 1, small images): instead of
// splitting output channels over tasks that would each pack the same B block,
// B is packed once per pixel chunk (all K blocks, in parallel) into a buffer
// of the calling thread, then the tasks share it. Returns false (nothing
// done) when the chunk that fits the buffer's cap would be too small.
bool ConvLayer::forward_gemm_shared(const CallShape& s, OutputSize o, const float* input,
                                    float* output, CancelFlag cancel) const {
  const int64_t M = p_.out_per_group(), K = p_.reduction(), P = o.height * o.width;
  const int64_t G = p_.groups, cin_g = p_.in_per_group();
  const int64_t mr = int64_t(gemm_->mr), nr = int64_t(gemm_->nr);
  const int64_t kc = int64_t(gemm_->kc);
  const int64_t threads = int64_t(get_num_threads());
  const PackIm2colFn pack = gemm_->pack;
  const int64_t panel_pad = pack ? std::max<int64_t>(16, nr) : 0;
  const int64_t kblocks = (K + kc - 1) / kc;
  const int64_t per_panel = K * nr + kblocks * panel_pad;  // floats of one panel, all K
  const int64_t total_panels = (P + nr - 1) / nr;
  // A chunk of at most nc pixels: one K block of it stays in L2 while the
  // tasks run over it.
  const int64_t nc_panels = std::max<int64_t>(1, int64_t(gemm_->nc) / nr);
  int64_t chunk_panels = std::min({total_panels, nc_panels, kMaxSharedB / per_panel});
  if (chunk_panels < std::min<int64_t>(total_panels, threads)) return false;
  const int64_t chunks = (total_panels + chunk_panels - 1) / chunk_panels;
  chunk_panels = (total_panels + chunks - 1) / chunks;
  float* shared = shared_scratch(chunk_panels * per_panel);
  const int64_t m_panels = (M + mr - 1) / mr;
  const float* bias = bias_.empty() ? nullptr : bias_.data();

  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t g = 0; g < G; ++g)
      for (int64_t c = 0; c < chunks; ++c) {
        const int64_t j_begin = c * chunk_panels;
        const int64_t panels = std::min(chunk_panels, total_panels - j_begin);
        const int64_t p0 = j_begin * nr, np = std::min(panels * nr, P - p0);
        const Im2colSource src{input + (n * p_.in_channels + g * cin_g) * s.height * s.width,
                               s.height, s.width, o.width};
        float* out = output + (n * p_.out_channels + g * M) * P;
        // K block kb starts at block_base(kb); its panel j at + j * (kc_len*nr + pad).
        auto block_base = [&](int64_t kb) { return shared + kb * panels * (kc * nr + panel_pad); };
        // Phase 1: pack (K blocks x panel ranges).
        const int64_t want = 2 * threads;
        const int64_t psplit = std::min(panels, (want + kblocks - 1) / kblocks);
        const int64_t pper = (panels + psplit - 1) / psplit;
        count_tasks(kblocks * psplit);
        parallel_for(size_t(kblocks * psplit), [&](size_t t) {
          check_cancel(cancel);
          const int64_t kb = int64_t(t) / psplit, ps = int64_t(t) % psplit;
          const int64_t j0 = ps * pper, j1 = std::min(panels, j0 + pper);
          if (j0 >= j1) return;
          const int64_t k0 = kb * kc, kc_len = std::min(kc, K - k0);
          const int64_t stride = kc_len * nr + panel_pad;
          const int64_t q0 = p0 + j0 * nr, nq = std::min((j1 - j0) * nr, p0 + np - q0);
          float* dst = block_base(kb) + j0 * stride;
          if (pack) pack(p_, src, k0, kc_len, q0, nq, stride, dst);
          else pack_im2col(p_, src, k0, kc_len, q0, nq, size_t(nr), dst);
        });
        // Phase 2: multiply (output-channel tiles x panel ranges), every task
        // over all K blocks in order. One task per thread measured best (each
        // task streams the whole B chunk once per K block).
        const int64_t want2 = threads;
        const int64_t m_tiles = std::min(m_panels, want2);
        const int64_t n_split = std::min(panels, (want2 + m_tiles - 1) / m_tiles);
        const int64_t mper = (m_panels + m_tiles - 1) / m_tiles;
        const int64_t nper = (panels + n_split - 1) / n_split;
        count_tasks(m_tiles * n_split);
        parallel_for(size_t(m_tiles * n_split), [&](size_t t) {
          check_cancel(cancel);
          const int64_t mt = int64_t(t) / n_split, ns = int64_t(t) % n_split;
          const int64_t mp_begin = mt * mper, mp_end = std::min(m_panels, mp_begin + mper);
          const int64_t j0 = ns * nper, j1 = std::min(panels, j0 + nper);
          if (mp_begin >= mp_end || j0 >= j1) return;
          for (int64_t kb = 0; kb < kblocks; ++kb) {
            const int64_t k0 = kb * kc, kc_len = std::min(kc, K - k0);
            const bool last = kb + 1 == kblocks;
            const int64_t stride = kc_len * nr + panel_pad;
            const float* base = block_base(kb);
            for (int64_t j = j0; j < j1; ++j) {
              const float* b = base + j * stride;
              const size_t nrj = size_t(std::min(nr, np - j * nr));
              gemm_panel_column(*gemm_, packed_, g, k0, kc_len, mp_begin, mp_end, M, b, nrj,
                                out + p0 + j * nr, P, last && bias ? bias + g * M : nullptr);
            }
          }
        });
      }
  return true;
}

void ConvLayer::forward_direct(const CallShape& s, OutputSize o, const float* input,
                               float* output, CancelFlag cancel) const {
  const int64_t H = s.height, W = s.width;
  const int64_t cin_g = p_.in_per_group(), cout_g = p_.out_per_group(), G = p_.groups;
  const int64_t kh_n = p_.kernel_h, kw_n = p_.kernel_w;
  const int64_t sh = p_.stride_h, sw = p_.stride_w, dh = p_.dilation_h, dw = p_.dilation_w;
  const int64_t Wp = W + p_.pad_left + p_.pad_right;
  const int64_t Wq = (Wp + sw - 1) / sw, RS = sw * Wq;  // phase length, padded row stride
  const int64_t P = o.height * o.width;
  const int64_t reach = (kh_n - 1) * dh + 1;  // input rows one output row reads
  // Bands of output rows: the padded rows a band reads, for all the group's
  // channels, stay within ~256 KB (L2) and there are enough tasks for the threads.
  constexpr int64_t kBandBudget = 64 * 1024;
  int64_t bh = std::max<int64_t>(
      1, (kBandBudget / std::max<int64_t>(1, saturating_product({cin_g, RS})) - reach) / sh + 1);
  bh = std::min(bh, o.height);
  const int64_t threads = int64_t(get_num_threads());
  const int64_t outer = s.batch * G;
  if (threads > 1 && outer < 4 * threads) {
    const int64_t bands_wanted = (4 * threads + outer - 1) / outer;
    bh = std::min(bh, std::max<int64_t>(1, (o.height + bands_wanted - 1) / bands_wanted));
  }
  const int64_t bands = (o.height + bh - 1) / bh;
  const int64_t in_rows = (bh - 1) * sh + reach;
  const int64_t PS = checked_mul(in_rows, RS, "padded input band (rows x row length)");
  const int64_t band_n = checked_mul(cin_g, PS, "padded input band (channels x band)");
  if (band_n > kMaxScratch)
    throw std::length_error("padded input band of " + std::to_string(band_n) + " elements (" +
                            std::to_string(cin_g) + " channels x " + std::to_string(in_rows) +
                            " rows x " + std::to_string(RS) + ") is larger than 2^31");
  const int64_t taps = cin_g * kh_n * kw_n;
  // (ci, kh, kw) order, as the weights; per calling thread, reused across calls
  // (the lambda below must use the pointer: it names the caller's copy)
  thread_local std::vector<int64_t> tap_off_buf;
  const TrimOnExit<int64_t> trim_taps{tap_off_buf};
  tap_off_buf.resize(static_cast<size_t>(taps));
  int64_t* const tap_off = tap_off_buf.data();
  for (int64_t ci = 0, t = 0; ci < cin_g; ++ci)
    for (int64_t kh = 0; kh < kh_n; ++kh)
      for (int64_t kw = 0; kw < kw_n; ++kw, ++t)
        tap_off[t] = ci * PS + kh * dh * RS + (kw * dw) % sw * Wq + (kw * dw) / sw;
  const DirectKernel* dk = direct_;
  const float* bias = bias_.empty() ? nullptr : bias_.data();
  // 3x3 depthwise, stride 1 or 2, zero padding, one column of it on the left
  // (as MobileNet pads): read the input in place where the ISA has those
  // kernels. The padded copy of the plane cost a third of the stride-1 layer
  // and most of the stride-2 one (it handles every input element, the kernel
  // a quarter as many outputs).
  const bool dw3_zero1 = cin_g == 1 && kh_n == 3 && kw_n == 3 && dh == 1 && dw == 1 &&
                         p_.pad_mode == PadMode::Zeros && p_.pad_left == 1 && sh == sw;
  void (*const dw3_in_place)(const Dw3InPlaceArgs&) =
      !dw3_zero1 ? nullptr : sh == 1 ? dk->dw3s1 : sh == 2 ? dk->dw3s2 : nullptr;

  count_tasks(outer * bands);
  parallel_for(size_t(outer * bands), [&](size_t t) {
    const ScratchTrim trim;
    check_cancel(cancel);
    const int64_t band = int64_t(t) % bands, ng = int64_t(t) / bands;
    const int64_t g = ng % G, n = ng / G;
    const int64_t oh0 = band * bh, oh_n = std::min(bh, o.height - oh0);
    if (dw3_in_place != nullptr) {
      const float* plane = input + (n * p_.in_channels + g) * H * W;
      for (int64_t j = 0; j < cout_g; ++j) {
        const int64_t oc = g * cout_g + j;
        dw3_in_place(Dw3InPlaceArgs{plane, H, W, p_.pad_top, weight_.data() + oc * 9,
                                    bias ? bias + oc : nullptr,
                                    output + (n * p_.out_channels + oc) * P, o.width, oh0, oh_n});
      }
      return;
    }
    const int64_t rows = (oh_n - 1) * sh + reach;
    float* buf = scratch(band_n + kDirectSlack);
    for (int64_t ci = 0; ci < cin_g; ++ci) {
      const float* plane = input + (n * p_.in_channels + g * cin_g + ci) * H * W;
      dk->pad_plane(PadPlaneArgs{plane, H, W, oh0 * sh, rows, p_.pad_top, p_.pad_left,
                                 p_.pad_right, sw, Wq, p_.pad_mode, buf + ci * PS});
    }
    std::fill(buf + cin_g * PS, buf + cin_g * PS + kDirectSlack, 0.0f);
    DirectArgs a;
    a.in = buf;
    a.tap_off = tap_off;
    a.taps = taps;
    a.row_step = sh * RS;
    a.w = weight_.data() + g * cout_g * taps;
    a.bias = bias ? bias + g * cout_g : nullptr;
    a.out = output + (n * p_.out_channels + g * cout_g) * P + oh0 * o.width;
    a.out_stride = P;
    a.out_row_stride = o.width;
    a.n_out = cout_g;
    a.out_h = oh_n;
    a.out_w = o.width;
    if (sh == 1 && sw == 1) a.flat_n = (oh_n - 1) * RS + o.width;
    if (cin_g == 1) {
      a.kernel_h = kh_n;
      a.kernel_w = kw_n;
      a.kh_step = dh * RS;
    }
    dk->fn(a);
  });
}

// Winograd F(2x2, 3x3) (see winograd.h). A layer with dilation d is d*d
// undilated convolutions, one per phase (pr, pc) of the output grid (rows
// pr, pr+d, ..., columns pc, pc+d, ...), each reading every d-th padded row
// and column. Tasks: images x phases x blocks of tile rows x output-channel
// ranges. Each task transforms its block's input (all channels: one padded,
// phase-split band per channel, then V), runs the 16 GEMMs M[e] = U[e] V[e]
// with B read in place, and transforms M to output. Every output element is
// computed by one fixed sequence of operations whatever the blocking, so
// results do not depend on the thread count.
void ConvLayer::forward_winograd(const CallShape& s, OutputSize o, const float* input,
                                 float* output, CancelFlag cancel) const {
  const int64_t C = p_.in_channels, M = p_.out_channels, H = s.height, W = s.width;
  const int64_t OH = o.height, OW = o.width;
  // Only the phases that hold an output element: min(d, OH) x min(d, OW)
  // (a 1x1 output of a layer with dilation 2^20 has one phase, not 2^40).
  const int64_t d = p_.dilation_h, S = 2 * d;
  const int64_t phases_h = std::min(d, OH), phases_w = std::min(d, OW);
  const int64_t phases = phases_h * phases_w;
  // Phase (0, 0) has the most tiles: ceil(ceil(OH/d)/2) x ceil(ceil(OW/d)/2).
  const int64_t th_n = ((OH + d - 1) / d + 1) / 2, tw_n = ((OW + d - 1) / d + 1) / 2;
  // Padded rows split into S column phases (column x at phase x % S, index
  // x / S); a last tile may read index tw_n, past the padded row: those
  // floats, and rows past the padded input, stay zero.
  const int64_t Wp = p_.pad_left + W + p_.pad_right, Hp = p_.pad_top + H + p_.pad_bottom;
  const int64_t Wq = std::max((Wp + S - 1) / S, tw_n + 1), RS = S * Wq;
  const int64_t mr = int64_t(gemm_->mr), nr = int64_t(gemm_->nr), kc = int64_t(gemm_->kc);
  const int64_t threads = int64_t(get_num_threads());
  // Tile rows per block: V (16 x C x tiles) of about 256 KiB, so that V and
  // the block's M stay in L2 (measured: 1 MiB blocks lose 10-25% on large
  // images), but at least 64 tiles so the GEMMs have two full column panels.
  const int64_t want_tiles = std::max<int64_t>(64, 4096 / C);
  int64_t bt = std::min(th_n, std::max<int64_t>(1, want_tiles / tw_n));
  int64_t blocks = (th_n + bt - 1) / bt;
  const int64_t m_panels = (M + mr - 1) / mr;
  int64_t m_tiles = 1;
  if (threads > 1) {
    // Enough tasks for the threads: first smaller row blocks (down to ~2
    // column panels each), then output-channel ranges (each range repeats
    // the input transform, a small part of the work).
    while (s.batch * phases * blocks < 2 * threads && bt > 1 && (bt / 2) * tw_n >= 2 * nr) {
      bt = (bt + 1) / 2;
      blocks = (th_n + bt - 1) / bt;
    }
    // Just enough ranges for a whole number of tasks per thread: each range
    // repeats the input transform (8% of a 256-channel 14x14 layer), so
    // four quarter ranges on 2 threads measured slower than two halves.
    const int64_t base = s.batch * phases * blocks;
    if (base % threads != 0 && base < 4 * threads) {
      int64_t a = base, b = threads;  // gcd
      while (b != 0) { const int64_t t = a % b; a = b; b = t; }
      m_tiles = std::min(m_panels, threads / a);
    }
  }
  const int64_t mper = (m_panels + m_tiles - 1) / m_tiles;
  const int64_t band_rows = 2 * bt + 2;
  const int64_t max_nt = bt * tw_n;
  const int64_t work_n = checked_add(
      checked_product({16, std::max(C, mper * mr), max_nt}, "Winograd workspace (16 x channels x tiles)"),
      checked_product({band_rows, RS}, "Winograd band (rows x padded row)"), "Winograd workspace");
  if (work_n > kMaxScratch)
    throw std::length_error("Winograd workspace of " + std::to_string(work_n) +
                            " elements is larger than 2^31");
  const float* bias = bias_.empty() ? nullptr : bias_.data();
  const WinogradKernel* wk = wino_;

  const int64_t tasks = checked_product({s.batch, phases, blocks, m_tiles}, "Winograd tasks");
  count_tasks(tasks);
  parallel_for(size_t(tasks), [&](size_t task) {
    const ScratchTrim trim;
    check_cancel(cancel);
    int64_t r = int64_t(task);
    const int64_t mt = r % m_tiles; r /= m_tiles;
    const int64_t blk = r % blocks; r /= blocks;
    const int64_t ph = r % phases, n = r / phases;
    const int64_t pr = ph / phases_w, pc = ph % phases_w;
    // this phase's output grid and tiles
    const int64_t sub_h = OH > pr ? (OH - pr + d - 1) / d : 0;
    const int64_t sub_w = OW > pc ? (OW - pc + d - 1) / d : 0;
    const int64_t th = (sub_h + 1) / 2, tw = (sub_w + 1) / 2;
    const int64_t th0 = blk * bt;
    const int64_t mp_begin = mt * mper, mp_end = std::min(m_panels, mp_begin + mper);
    if (th0 >= th || tw == 0 || mp_begin >= mp_end) return;
    const int64_t m_begin = mp_begin * mr, m_end = std::min(M, mp_end * mr), mc = m_end - m_begin;
    const int64_t rows = std::min(bt, th - th0), nt = rows * tw;
    const int64_t v_plane = C * nt, m_plane = mc * nt;
    // one buffer: V, then M, then the band (zeroed once: pad_plane never
    // writes the columns and rows past the padded input)
    const int64_t band_n = band_rows * RS + kDirectSlack;
    float* v = scratch(16 * v_plane + 16 * m_plane + band_n);
    float* mbuf = v + 16 * v_plane;
    float* band = mbuf + 16 * m_plane;
    std::fill(band, band + band_n, 0.0f);
    // band row j is padded row y0 + j*d
    const int64_t y0 = 2 * th0 * d + pr, need = 2 * rows + 2;
    const int64_t valid = std::max<int64_t>(0, std::min(need, (Hp - y0 + d - 1) / d));
    for (int64_t c = 0; c < C; ++c) {
      const float* plane = input + (n * C + c) * H * W;
      if (valid > 0) {
        PadPlaneArgs pa{plane, H, W, y0, valid, p_.pad_top, p_.pad_left,
                        p_.pad_right, S, Wq, p_.pad_mode, band};
        pa.y_step = d;
        direct_->pad_plane(pa);
      }
      wk->input(WinogradInputArgs{band + pc * Wq, RS, d * Wq, tw, rows, v + c * nt, v_plane});
    }
    check_cancel(cancel);
    for (int e = 0; e < 16; ++e) {
      const PackedWeights& u = wino_u_[size_t(e)];
      const float* ve = v + e * v_plane;
      float* me = mbuf + e * m_plane;
      for (int64_t k0 = 0; k0 < C; k0 += kc) {
        const int64_t kc_len = std::min(kc, C - k0);
        for (int64_t j = 0; j < nt; j += nr) {
          const size_t nrj = size_t(std::min(nr, nt - j));
          for (int64_t mp = mp_begin; mp < mp_end; ++mp) {
            const int64_t m = mp * mr;
            gemm_->fn_ldb(size_t(kc_len), u.panel(0, k0, mp, kc_len), ve + k0 * nt + j, size_t(nt),
                          me + (m - m_begin) * nt + j, size_t(nt), size_t(std::min(mr, M - m)),
                          nrj, k0 > 0, nullptr);
          }
        }
      }
    }
    for (int64_t oc = m_begin; oc < m_end; ++oc)
      wk->output(WinogradOutputArgs{mbuf + (oc - m_begin) * nt, m_plane, tw, rows,
                                    bias ? bias + oc : nullptr,
                                    output + (n * M + oc) * OH * OW + (2 * th0 * d + pr) * OW + pc,
                                    d * OW, sub_h - 2 * th0, sub_w, d});
  });
}

}  // namespace simdconv
