// libFuzzer target over layer parameters and call shapes, with extreme
// values (2^31, 2^31 - 1, 2^20, 0, -1, 2^62, ...) mixed into small ones.
// Built with clang++ -fsanitize=fuzzer,address,undefined (cmake
// -DSIMDCONV_FUZZ=ON, scripts/fuzz.sh). Per input:
//   - validate() and output_size() either accept the layer or throw
//     std::invalid_argument / std::length_error (never a wrap: UBSan traps
//     any signed overflow);
//   - when the tensors are small enough to allocate, every algorithm that
//     can run the layer, forced, on every ISA this CPU has (and the default
//     choice) equals the reference, with work and scratch bounded by the
//     call's sizes (cost counters);
//   - the last byte picks a fused activation and a residual (epilogue.h):
//     the result then equals act(reference + residual) in double.
// Any failure aborts, which libFuzzer reports with the input.
//
// Input format (see scripts/fuzz_seeds.py): one byte per field, in the order
// of kFields below; missing bytes read as 0. A byte below 0xF0 is a small
// value (byte % span + min of the field); 0xF0..0xFF pick kExtremes[byte - 0xF0].
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

#include "../tests/act_ref.h"
#include "simdconv/conv_layer.h"
#include "simdconv/reference_conv.h"
#include "simdconv/thread_pool.h"

using namespace simdconv;

namespace {

constexpr int64_t kExtremes[16] = {
    int64_t(1) << 31, (int64_t(1) << 31) - 1, int64_t(1) << 30, (int64_t(1) << 30) + 1,
    int64_t(1) << 20, int64_t(1) << 16, 65, 64, 1000, (int64_t(1) << 31) + 1, 0, -1,
    int64_t(1) << 62, 3 * (int64_t(1) << 30), int64_t(1) << 32, INT64_MAX};

// Bytes in order, 0 past the end.
struct Reader {
  const uint8_t* data;
  size_t size, pos = 0;
  uint8_t byte() { return pos < size ? data[pos++] : 0; }
  // A small value in [min, min + span) or an extreme one.
  int64_t field(int64_t min, int64_t span) {
    const uint8_t b = byte();
    return b >= 0xF0 ? kExtremes[b - 0xF0] : min + int64_t(b) % span;
  }
};

// a * b, or INT64_MAX when it does not fit (validate() then refuses it).
int64_t mul_sat(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

// Caps for running forward(): tensors and reference work small enough that
// an iteration takes milliseconds under ASan.
constexpr int64_t kMaxElems = int64_t(1) << 15;
constexpr int64_t kMaxWork = int64_t(1) << 21;  // multiply-adds of the reference

[[noreturn]] void fail(const char* what, const LayerParams& p, const CallShape& s, const char* detail) {
  std::fprintf(stderr,
               "FUZZ FAILURE: %s (%s): Cin=%lld Cout=%lld g=%lld k=%lldx%lld s=%lldx%lld d=%lldx%lld "
               "pad=t%lld b%lld l%lld r%lld mode=%d N=%lld H=%lld W=%lld\n",
               what, detail, (long long)p.in_channels, (long long)p.out_channels, (long long)p.groups,
               (long long)p.kernel_h, (long long)p.kernel_w, (long long)p.stride_h, (long long)p.stride_w,
               (long long)p.dilation_h, (long long)p.dilation_w, (long long)p.pad_top,
               (long long)p.pad_bottom, (long long)p.pad_left, (long long)p.pad_right, int(p.pad_mode),
               (long long)s.batch, (long long)s.height, (long long)s.width);
  std::abort();
}

// |got - want| within float32 rounding of a length-k sum of terms <= 1;
// with an epilogue, want is act(reference + r) and that bound (plus the
// residual add's rounding) goes through the activation's slope, plus the
// activation kernel's own error.
bool close(float got, float want, double k, const Activation& act, const float* r) {
  const double eps = 1.1920929e-7, tol = 4.0 * eps * (std::sqrt(k) + 2.0) * (k + 1.0);
  if (act.kind == ActKind::None && r == nullptr) return std::fabs(double(got) - double(want)) <= tol;
  const double pre = double(want) + (r != nullptr ? double(*r) : 0.0);
  const double ref = test::act::reference(act, pre);
  const double etol = test::act::lipschitz(act) * (tol + 2 * eps * (std::fabs(pre) + 1)) + test::act::kernel_tol(act, pre, ref);
  return std::fabs(double(got) - ref) <= etol;
}

// The epilogue byte: bits 0-6 the activation kind (mod 12, 0 = none), bit 7
// a residual. Parameters as PyTorch's defaults, hardtanh narrowed.
Activation fuzz_activation(uint8_t e) {
  Activation a;
  a.kind = ActKind((e & 0x7F) % 12);
  if (a.kind == ActKind::LeakyRelu) a.alpha = 0.01f;
  if (a.kind == ActKind::Hardtanh) a.alpha = -0.5f, a.beta = 0.5f;
  if (a.kind == ActKind::Elu) a.alpha = 1.0f;
  return a;
}

void run_all(const LayerParams& p, const CallShape& s, OutputSize o, bool with_bias, int threads,
             const Activation& act, bool with_residual) {
  const int64_t in_n = s.batch * p.in_channels * s.height * s.width;
  const int64_t out_n = s.batch * p.out_channels * o.height * o.width;
  std::mt19937 rng(uint32_t(in_n * 31 + out_n));
  std::uniform_real_distribution<float> dist(-1, 1);
  auto random = [&](int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = dist(rng);
    return v;
  };
  const auto x = random(in_n), w = random(p.weight_elements()), b = random(p.out_channels);
  const auto res = random(with_residual ? out_n : 0);
  const float* bias = with_bias ? b.data() : nullptr;
  const float* residual = with_residual ? res.data() : nullptr;
  std::vector<float> want(static_cast<size_t>(out_n)), got(static_cast<size_t>(out_n));
  reference_conv2d(p, s, x.data(), w.data(), bias, want.data());
  set_num_threads(threads);
  const GemmKernel* kernels[8];
  const int nk = runnable_gemm_kernels(kernels, 8);
  // Scratch: a B block, a band or a Winograd block, bounded by the call's own
  // sizes (a direct band by 8 x what one output row reads, see
  // cost_follows_output in src/plan/plan.cpp), never by the padding or dilation.
  const int64_t scratch_bound = (int64_t(1) << 20) + 64 * (in_n + out_n + p.weight_elements()) +
                                8 * p.reduction() * o.width;
  for (int ki = 0; ki < nk; ++ki) {
    const Isa isa = kernels[ki]->isa;
    for (int a = -1; a <= int(Algorithm::Winograd); ++a) {
      if (a == int(Algorithm::Depthwise) && p.in_per_group() != 1) continue;
      if (a == int(Algorithm::Winograd) && !winograd_applies(p, isa)) continue;
      std::fill(got.begin(), got.end(), std::nanf(""));
      reset_cost_counters();
      try {
        const ConvLayer layer = a < 0 ? ConvLayer(p, w.data(), bias, act, isa)
                                      : ConvLayer(p, w.data(), bias, act, isa, Algorithm(a));
        layer.forward(s, x.data(), got.data(), residual);
      } catch (const std::exception& e) {
        fail("forward threw", p, s, e.what());
      }
      for (int64_t i = 0; i < out_n; ++i)
        if (!close(got[size_t(i)], want[size_t(i)], double(p.reduction()), act,
                   residual != nullptr ? residual + i : nullptr))
          fail("differs from the reference", p, s, a < 0 ? "default algorithm" : algorithm_name(Algorithm(a)));
      const CostCounters c = cost_counters();
      if (c.tasks > 64 * out_n + 64 * threads) fail("too many tasks", p, s, algorithm_name(c.last_run));
      if (c.scratch_peak > scratch_bound) fail("too much scratch", p, s, algorithm_name(c.last_run));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r{data, size};
  LayerParams p;
  const int64_t cin_g = r.field(1, 12), cout_g = r.field(1, 12);
  const uint8_t g_sel = r.byte();  // 0-191: groups 1..4; 192-239: depthwise; else extreme
  p.groups = g_sel >= 0xF0 ? kExtremes[g_sel - 0xF0] : g_sel >= 192 ? cin_g : 1 + g_sel % 4;
  const bool depthwise = g_sel >= 192 && g_sel < 0xF0;
  p.in_channels = depthwise ? cin_g : mul_sat(cin_g, p.groups);
  p.out_channels = depthwise ? mul_sat(cin_g, 1 + cout_g % 3) : mul_sat(cout_g, p.groups);
  if (depthwise) p.groups = cin_g;
  p.kernel_h = r.field(1, 6);
  p.kernel_w = r.field(1, 6);
  p.stride_h = r.field(1, 4);
  p.stride_w = r.field(1, 4);
  p.dilation_h = r.field(1, 4);
  p.dilation_w = r.field(1, 4);
  p.pad_top = r.field(0, 5);
  p.pad_bottom = r.field(0, 5);
  p.pad_left = r.field(0, 5);
  p.pad_right = r.field(0, 5);
  p.pad_mode = PadMode(r.field(0, 4));
  CallShape s;
  s.batch = r.field(1, 3);
  s.height = r.field(1, 24);
  s.width = r.field(1, 24);
  const uint8_t flags = r.byte();
  const bool with_bias = flags & 1;
  const int threads = 1 + (flags >> 1) % 2;
  const uint8_t epilogue = r.byte();

  OutputSize o;
  try {
    o = output_size(p, s);  // validates the layer too
  } catch (const std::invalid_argument&) {
    return 0;
  } catch (const std::length_error&) {
    return 0;
  }
  if (o.height < 1 || o.width < 1) fail("output_size accepted an empty output", p, s, "");
  // Sizes small enough to run (each product checked: the factors may be 2^31).
  int64_t in_n, out_n, work;
  if (__builtin_mul_overflow(s.batch * p.in_channels, s.height * s.width, &in_n) || in_n > kMaxElems)
    return 0;
  if (__builtin_mul_overflow(s.batch * p.out_channels, o.height * o.width, &out_n) || out_n > kMaxElems)
    return 0;
  if (p.weight_elements() > kMaxElems) return 0;
  if (__builtin_mul_overflow(out_n, p.reduction(), &work) || work > kMaxWork) return 0;
  run_all(p, s, o, with_bias, threads, fuzz_activation(epilogue), (epilogue & 0x80) != 0);
  return 0;
}
