// Kernel-alone throughput per family, on every ISA this CPU runs, with the
// inputs cache-resident (no driver, no threads): the direct tap loop, the
// in-place depthwise kernels, the Winograd transforms, pad_plane and the
// epilogue's activation kernels.
// The kernel-level counterpart of bench_ukernel (GEMM). Not a test: no
// thresholds, run by hand (BENCHMARKS.md).
// Usage: [BENCH_CLOCK=cpu] bench_kernels [direct|dw|winograd|pad|act]   (default: all)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <cstring>
#include <functional>
#include <vector>

#include "simdconv/activation_kernel.h"
#include "simdconv/direct_kernel.h"
#include "simdconv/kernels.h"
#include "simdconv/winograd.h"

using namespace simdconv;

namespace {

// Seconds on the clock the timings use: wall time, or with BENCH_CLOCK=cpu
// this thread's CPU time (on a machine shared with other work, a time slice
// lost to another process then does not count; caches still do).
double now_s() {
  static const bool cpu = [] {
    const char* e = std::getenv("BENCH_CLOCK");
    return e != nullptr && std::strcmp(e, "cpu") == 0;
  }();
#if defined(CLOCK_THREAD_CPUTIME_ID)
  if (cpu) {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  }
#endif
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median and best of 9 timings of `iters` calls, as units (FLOPs or bytes)
// per nanosecond.
void report(const char* kernel, const char* what, double units_per_call, const char* unit,
            const std::function<void()>& call) {
  call();  // warm the caches
  std::vector<double> rates;
  size_t iters = 1;
  for (;;) {  // enough calls for ~20 ms per timing
    const double t0 = now_s();
    for (size_t i = 0; i < iters; ++i) call();
    if (now_s() - t0 > 0.02) break;
    iters *= 2;
  }
  for (int rep = 0; rep < 9; ++rep) {
    const double t0 = now_s();
    for (size_t i = 0; i < iters; ++i) call();
    const double s = now_s() - t0;
    rates.push_back(units_per_call * double(iters) / s * 1e-9);
  }
  std::sort(rates.begin(), rates.end());
  std::printf("%-28s %-34s median %7.1f best %7.1f %s\n", kernel, what, rates[rates.size() / 2],
              rates.back(), unit);
}

// One direct-kernel shape: cin input channels of a kh x kw kernel at stride s
// over an out_h x out_w output, n_out output channels, in the driver's band
// layout (phases of wq floats per padded row).
struct DirectShape {
  const char* name;
  int64_t cin, kh, kw, s, out_h, out_w, n_out;
};

void bench_direct(const DirectKernel& K) {
  const DirectShape shapes[] = {
      {"depthwise 3x3 s1 112x112", 1, 3, 3, 1, 112, 112, 1},
      {"depthwise 3x3 s2 56x56", 1, 3, 3, 2, 56, 56, 1},
      {"depthwise 5x5 s1 28x28", 1, 5, 5, 1, 28, 28, 1},
      {"grouped 3x3 s1 16->16 28x28", 16, 3, 3, 1, 28, 28, 16},
      {"dense 1x7 s1 8->8 17x17", 8, 1, 7, 1, 17, 17, 8},
  };
  for (const DirectShape& sh : shapes) {
    const int64_t wq = ((sh.out_w - 1) * sh.s + sh.kw + sh.s - 1) / sh.s, rs = sh.s * wq;
    const int64_t rows = (sh.out_h - 1) * sh.s + sh.kh, ps = rows * rs, taps = sh.cin * sh.kh * sh.kw;
    std::vector<float> in(size_t(sh.cin * ps + kDirectSlack), 0.5f), w(size_t(sh.n_out * taps), 0.25f);
    std::vector<float> out(size_t(sh.n_out * sh.out_h * sh.out_w));
    std::vector<int64_t> tap_off;
    for (int64_t ci = 0; ci < sh.cin; ++ci)
      for (int64_t kh = 0; kh < sh.kh; ++kh)
        for (int64_t kw = 0; kw < sh.kw; ++kw) tap_off.push_back(ci * ps + kh * rs + kw % sh.s * wq + kw / sh.s);
    DirectArgs a;
    a.in = in.data();
    a.tap_off = tap_off.data();
    a.taps = taps;
    a.row_step = sh.s * rs;
    a.w = w.data();
    a.out = out.data();
    a.out_stride = sh.out_h * sh.out_w;
    a.out_row_stride = sh.out_w;
    a.n_out = sh.n_out;
    a.out_h = sh.out_h;
    a.out_w = sh.out_w;
    if (sh.cin == 1) a.kernel_h = sh.kh, a.kernel_w = sh.kw, a.kh_step = rs;  // as the driver
    if (sh.s == 1) a.flat_n = (sh.out_h - 1) * rs + sh.out_w;
    report(K.name, sh.name, 2.0 * double(taps * sh.n_out * sh.out_h * sh.out_w), "GFLOP/s", [&] { K.fn(a); });
  }
}

// The depthwise layers of MobileNetV2 (3x3) and EfficientNet (5x5), one
// channel plane per call: the in-place kernel (DirectKernel::dw<k>s<s>)
// against the padded path the driver runs without it (pad_plane of the
// plane's rows, then fn), both from the same input.
void bench_dw(const DirectKernel& K) {
  const struct { const char* name; int64_t k, s, hw; } shapes[] = {
      {"dw 3x3 s1 56x56", 3, 1, 56},  {"dw 3x3 s2 112x112", 3, 2, 112},
      {"dw 5x5 s1 28x28", 5, 1, 28},  {"dw 5x5 s2 56x56", 5, 2, 56},
  };
  for (const auto& sh : shapes) {
    const int64_t k = sh.k, S = sh.s, H = sh.hw, W = sh.hw, pad = k / 2;
    const int64_t out_h = (H + 2 * pad - k) / S + 1, out_w = (W + 2 * pad - k) / S + 1;
    std::vector<float> plane(size_t(H * W), 0.5f), w(size_t(k * k), 0.25f), out(size_t(out_h * out_w));
    const double flops = 2.0 * double(k * k * out_h * out_w);
    char what[64];
    if (const DwInPlaceFn fn = dw_in_place_kernel(K, k, S)) {
      const DwInPlaceArgs a{plane.data(), H, W, pad, pad, w.data(), nullptr, out.data(), out_w, 0, out_h};
      std::snprintf(what, sizeof what, "%s in place", sh.name);
      report(K.name, what, flops, "GFLOP/s", [&] { fn(a); });
    }
    // The padded path: the band of all rows, stride-phase split, then fn.
    const int64_t wq = (W + 2 * pad + S - 1) / S, rs = S * wq, rows = (out_h - 1) * S + k;
    std::vector<float> band(size_t(rows * rs + kDirectSlack), 0.0f);
    std::vector<int64_t> tap_off;
    for (int64_t kh = 0; kh < k; ++kh)
      for (int64_t kw = 0; kw < k; ++kw) tap_off.push_back(kh * rs + kw % S * wq + kw / S);
    const PadPlaneArgs pa{plane.data(), H, W, 0, rows, pad, pad, pad, S, wq, PadMode::Zeros, band.data()};
    DirectArgs a;
    a.in = band.data();
    a.tap_off = tap_off.data();
    a.taps = k * k;
    a.row_step = S * rs;
    a.w = w.data();
    a.out = out.data();
    a.out_stride = out_h * out_w;
    a.out_row_stride = out_w;
    a.n_out = 1;
    a.out_h = out_h;
    a.out_w = out_w;
    a.kernel_h = a.kernel_w = k;
    a.kh_step = rs;
    std::snprintf(what, sizeof what, "%s padded copy + fn", sh.name);
    report(K.name, what, flops, "GFLOP/s", [&] { K.pad_plane(pa); K.fn(a); });
  }
}

void bench_pad(const DirectKernel& K) {
  const struct { const char* name; PadMode mode; int64_t stride; } cases[] = {
      {"pad_plane zeros s1 112x112 +1", PadMode::Zeros, 1},
      {"pad_plane zeros s2 112x112 +1", PadMode::Zeros, 2},
      {"pad_plane reflect s1 112x112 +1", PadMode::Reflect, 1},
      {"pad_plane circular s3 112x112 +1", PadMode::Circular, 3},
  };
  const int64_t H = 112, W = 112, n = W + 2;
  std::vector<float> plane(size_t(H * W), 0.5f);
  for (const auto& c : cases) {
    const int64_t wq = (n + c.stride - 1) / c.stride, rows = H + 2;
    std::vector<float> dst(size_t(rows * c.stride * wq));
    const PadPlaneArgs a{plane.data(), H, W, 0, rows, 1, 1, 1, c.stride, wq, c.mode, dst.data()};
    report(K.name, c.name, double(rows * n * sizeof(float)), "GB/s written", [&] { K.pad_plane(a); });
  }
}

// Nominal additions per tile: input B^T d B 32, output A^T M A 24 (+ 4 bias).
void bench_winograd(const WinogradKernel& K) {
  const int64_t tiles_w = 28, rows = 28, nt = tiles_w * rows, wq = tiles_w + 1, rs = 2 * wq;
  std::vector<float> band(size_t((2 * rows + 2) * rs + kDirectSlack), 0.5f), v(size_t(16 * nt));
  const WinogradInputArgs in{band.data(), rs, wq, tiles_w, rows, v.data(), nt};
  report(K.name, "input transform 56x56 (784 tiles)", 32.0 * double(nt), "GFLOP/s", [&] { K.input(in); });
  std::vector<float> out(size_t(4 * nt));
  const float bias = 0.125f;
  const WinogradOutputArgs o{v.data(), nt, tiles_w, rows, &bias, out.data(), 2 * tiles_w, 2 * rows, 2 * tiles_w, 1};
  report(K.name, "output transform 56x56 (784 tiles)", 28.0 * double(nt), "GFLOP/s", [&] { K.output(o); });
}

// Each activation over a 16K-float row (64 KiB, cache-resident like a
// driver's epilogue tile), with and without a residual: GB/s of output (the
// residual's bytes read are not counted). The kernel works in place, so each
// call first restores the row from a pristine copy (repeated activations
// would drift into subnormals, which are slow on x86): the "copy alone" line
// is that copy's own rate.
void bench_act(const ActivationKernel& K) {
  const size_t n = 16384;
  std::vector<float> src(n), y(n), res(n, 0.25f);
  for (size_t i = 0; i < n; ++i) src[i] = float(int(i % 97) - 48) * 0.125f;  // [-6, 6]: every branch taken
  const double bytes = double(n * sizeof(float));
  report(K.name, "copy alone 16K", bytes, "GB/s", [&] { std::memcpy(y.data(), src.data(), n * sizeof(float)); });
  for (int k = 0; k <= int(ActKind::GeluTanh); ++k) {
    const ActKind kind = ActKind(k);
    const Activation a{kind, kind == ActKind::Hardtanh ? -1.0f : kind == ActKind::Elu ? 1.0f : 0.01f,
                       kind == ActKind::Hardtanh ? 1.0f : 0.0f};
    for (const float* r : {static_cast<const float*>(nullptr), static_cast<const float*>(res.data())}) {
      if (kind == ActKind::None && r == nullptr) continue;  // nothing to do
      char what[64];
      std::snprintf(what, sizeof what, "copy + %s%s 16K", act_kind_name(kind), r != nullptr ? " + residual" : "");
      report(K.name, what, bytes, "GB/s", [&] {
        std::memcpy(y.data(), src.data(), n * sizeof(float));
        K.apply(a, y.data(), r, n);
      });
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* family = argc > 1 ? argv[1] : "all";
  const auto want = [&](const char* f) { return std::strcmp(family, "all") == 0 || std::strcmp(family, f) == 0; };
  for (Isa isa : {Isa::Scalar, Isa::Neon, Isa::Avx2, Isa::Avx512}) {
    const IsaKernels* k = kernels_for(isa);
    if (k == nullptr || !cpu_supports(isa)) continue;
    if (want("direct")) bench_direct(*k->direct);
    if (want("dw")) bench_dw(*k->direct);
    if (want("pad")) bench_pad(*k->direct);
    if (want("winograd") && k->winograd != nullptr) bench_winograd(*k->winograd);
    if (want("act")) bench_act(*k->act);
  }
  return 0;
}
