// Layers PyTorch accepts with huge stride, padding and dilation (up to 2^31)
// on tiny inputs: every algorithm, forced, on every ISA this CPU runs, equals
// the reference; sizes that do not fit in int64 are refused with
// std::length_error, never wrapped; and the work and scratch of a call are
// bounded by its output, not by the padding or dilation (cost counters).
#include <cstring>
#include <stdexcept>
#include <string>

#include "check.h"
#include "simdconv/conv_layer.h"
#include "simdconv/reference_conv.h"
#include "simdconv/thread_pool.h"

using namespace simdconv;

namespace {

constexpr int64_t k2p31 = int64_t(1) << 31;

struct Case {
  const char* name;
  LayerParams p;
  CallShape s;
};

LayerParams layer(int64_t cin, int64_t cout, int64_t k, int64_t stride, int64_t pad, int64_t dil,
                  PadMode mode = PadMode::Zeros, int64_t groups = 1) {
  LayerParams p;
  p.in_channels = cin; p.out_channels = cout; p.groups = groups;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pad;
  p.dilation_h = p.dilation_w = dil;
  p.pad_mode = mode;
  return p;
}

std::vector<Case> cases() {
  std::vector<Case> c;
  // stride and padding near 2^31 on 5x5: a 3x3 output
  c.push_back({"stride+pad 2^31", layer(3, 4, 3, k2p31, k2p31 - 1, 1), {1, 5, 5}});
  // 'same' padding with dilation 2^30: output 5x5, only the centre tap reads input
  c.push_back({"same, dilation 2^30", layer(2, 3, 3, 1, int64_t(1) << 30, int64_t(1) << 30), {2, 5, 5}});
  // dilation 2^20, 3x3, 1x1 input, 'same': Winograd's d*d phases
  c.push_back({"winograd dilation 2^20", layer(40, 36, 3, 1, int64_t(1) << 20, int64_t(1) << 20), {1, 1, 1}});
  c.push_back({"winograd dilation 2^20 4x3", layer(33, 32, 3, 1, int64_t(1) << 20, int64_t(1) << 20), {1, 4, 3}});
  // dilation and stride 2^31 with a 2x2 kernel: each tap reads one corner
  c.push_back({"dilation+stride 2^31", layer(2, 2, 2, k2p31, k2p31, k2p31), {1, 4, 3}});
  // depthwise, large padding and stride, replicate (no limit on its padding)
  c.push_back({"depthwise replicate", layer(3, 6, 3, k2p31, k2p31, 7, PadMode::Replicate, 3), {1, 2, 5}});
  c.push_back({"grouped pad 2^31", layer(8, 8, 3, k2p31, k2p31, 3, PadMode::Zeros, 2), {2, 3, 3}});
  // asymmetric: huge left padding only
  {
    LayerParams p = layer(3, 5, 3, 1, 0, 1);
    p.pad_left = k2p31;
    p.stride_w = int64_t(1) << 30;
    c.push_back({"pad_left 2^31", p, {1, 5, 4}});
  }
  // a tall 1-D kernel with huge row dilation
  {
    LayerParams p = layer(4, 4, 1, 1, 0, 1);
    p.kernel_h = 5;
    p.dilation_h = int64_t(1) << 29;
    p.pad_top = p.pad_bottom = int64_t(1) << 30;
    p.stride_h = int64_t(1) << 30;
    c.push_back({"5x1 dilation 2^29", p, {1, 3, 6}});
  }
  // 1000 channels per group, 1000 columns of left padding, stride 1000: a
  // direct band of 1000 x 2 x 2000 floats for 2 output columns (the fuzzer's find)
  {
    LayerParams p = layer(3000, 3, 1, 1000, 0, 1, PadMode::Zeros, 3);
    p.kernel_h = 2;
    p.dilation_w = 3;
    p.pad_left = 1000;
    c.push_back({"grouped wide band", p, {1, 10, 1}});
  }
  // reflect / circular: their padding is bounded by the input, the stride is not
  c.push_back({"reflect stride 2^31", layer(3, 3, 3, k2p31, 2, 1, PadMode::Reflect), {1, 5, 5}});
  c.push_back({"circular stride 2^31", layer(3, 3, 3, k2p31, 3, 2, PadMode::Circular), {1, 3, 4}});
  return c;
}

// forward() of every algorithm that can run the layer, on every ISA, with 1
// and 2 threads (bitwise equal), against the reference.
void check_case(const Case& c, std::mt19937& rng, int& compared) {
  const LayerParams& p = c.p;
  const OutputSize o = output_size(p, c.s);
  const size_t out_n = size_t(c.s.batch * p.out_channels * o.height * o.width);
  const auto x = test::random_vector(size_t(c.s.batch * p.in_channels * c.s.height * c.s.width), rng);
  const auto w = test::random_vector(size_t(p.weight_elements()), rng);
  const auto b = test::random_vector(size_t(p.out_channels), rng);
  std::vector<float> want(out_n);
  reference_conv2d(p, c.s, x.data(), w.data(), b.data(), want.data());
  const GemmKernel* kernels[8];
  const int nk = runnable_gemm_kernels(kernels, 8);
  const int saved = get_num_threads();
  for (int ki = 0; ki < nk; ++ki) {
    const Isa isa = kernels[ki]->isa;
    std::vector<Algorithm> algos = {Algorithm::Gemm,
                                    p.groups > 1 ? Algorithm::GroupedDirect : Algorithm::Direct};
    if (p.in_per_group() == 1) algos.push_back(Algorithm::Depthwise);
    if (winograd_applies(p, isa)) algos.push_back(Algorithm::Winograd);
    for (Algorithm a : algos) {
      std::vector<float> one_thread;  // 2 threads must give the same bits
      for (int threads : {1, 2}) {
        set_num_threads(threads);
        std::vector<float> got(out_n, std::nanf(""));
        reset_cost_counters();
        try {
          const ConvLayer l(p, w.data(), b.data(), isa, a);
          l.forward(c.s, x.data(), got.data());
        } catch (const std::exception& e) {
          CHECK(false, "%s: isa=%s algo=%s threads=%d threw %s", c.name, isa_name(isa),
                algorithm_name(a), threads, e.what());
          continue;
        }
        // Work and memory follow the output (a few elements here), not the
        // 2^31 padding, stride or dilation: a bounded number of tasks and at
        // most 4 MiB of scratch per task.
        const CostCounters cc = cost_counters();
        const int64_t out_elems = int64_t(out_n);
        CHECK(cc.tasks <= 64 * out_elems + 64 * threads, "%s: isa=%s algo=%s: %lld tasks for %lld outputs",
              c.name, isa_name(isa), algorithm_name(a), (long long)cc.tasks, (long long)out_elems);
        CHECK(cc.scratch_peak <= (int64_t(1) << 20), "%s: isa=%s algo=%s: %lld floats of scratch",
              c.name, isa_name(isa), algorithm_name(a), (long long)cc.scratch_peak);
        const double k = double(p.reduction());
        bool ok = true;
        for (size_t i = 0; i < out_n && ok; ++i)
          if (!test::close(got[i], want[i], k + 1, k + 1)) {
            CHECK(false, "%s: isa=%s algo=%s threads=%d elem %zu got %.9g want %.9g", c.name,
                  isa_name(isa), algorithm_name(a), threads, i, got[i], want[i]);
            ok = false;
          }
        compared += ok;
        if (threads == 1) one_thread = got;
        else
          CHECK(std::memcmp(one_thread.data(), got.data(), out_n * sizeof(float)) == 0,
                "%s: isa=%s algo=%s: 1 and 2 threads differ", c.name, isa_name(isa), algorithm_name(a));
      }
    }
  }
  set_num_threads(saved);
}

template <class E, class F>
bool throws_as(F&& f, const char* needle) {
  try {
    f();
  } catch (const E& e) {
    return std::string(e.what()).find(needle) != std::string::npos;
  } catch (...) {
    return false;
  }
  return false;
}

}  // namespace

int main() {
  std::mt19937 rng(7);
  int compared = 0;
  for (const Case& c : cases()) check_case(c, rng, compared);
  std::printf("compared %d extreme layers (algorithm x ISA x threads)\n", compared);

  // A forced direct or Winograd layer runs on the GEMM only for the calls
  // whose padded rows would outgrow the output.
  {
    const LayerParams huge = layer(3, 4, 3, k2p31, k2p31 - 1, 1);
    LayerParams modest = huge;
    modest.stride_h = modest.stride_w = 100;
    modest.pad_top = modest.pad_bottom = modest.pad_left = modest.pad_right = 100;
    const std::vector<float> w(size_t(huge.weight_elements()), 0.5f), x(3 * 100 * 100, 1.0f);
    std::vector<float> out(4 * 9);
    for (int which = 0; which < 2; ++which) {
      const LayerParams& p = which == 0 ? huge : modest;
      const ConvLayer l(p, w.data(), nullptr, active_isa(), Algorithm::Direct);
      const CallShape s = which == 0 ? CallShape{1, 5, 5} : CallShape{1, 100, 100};
      CHECK(output_size(p, s).height == 3 && output_size(p, s).width == 3, "expected a 3x3 output");
      l.forward(s, x.data(), out.data());
      const Algorithm want = which == 0 ? Algorithm::Gemm : Algorithm::Direct;
      CHECK(cost_counters().last_run == want, "forced direct, pad %lld stride %lld: ran %s, expected %s",
            (long long)p.pad_top, (long long)p.stride_h, algorithm_name(cost_counters().last_run),
            algorithm_name(want));
    }
  }
  // Winograd with dilation 32 on a 1x1 output (below the GEMM fallback's
  // threshold): one phase, not 32 x 32.
  if (winograd_kernel_for(active_isa()) != nullptr) {
    const LayerParams p = layer(32, 32, 3, 1, 32, 32);
    const std::vector<float> w(size_t(p.weight_elements()), 0.25f), x(32, 1.0f);
    std::vector<float> out(32);
    const ConvLayer l(p, w.data(), nullptr, active_isa(), Algorithm::Winograd);
    const int saved = get_num_threads();
    set_num_threads(1);
    reset_cost_counters();
    l.forward(CallShape{1, 1, 1}, x.data(), out.data());
    set_num_threads(saved);
    CHECK(cost_counters().last_run == Algorithm::Winograd && cost_counters().tasks == 1,
          "Winograd, dilation 32, 1x1 output: %lld tasks on %s, expected 1 on Winograd",
          (long long)cost_counters().tasks, algorithm_name(cost_counters().last_run));
    CHECK(out[0] == 32 * 0.25f, "Winograd, dilation 32, 1x1 output: got %g, expected 8", out[0]);
  }
  // A very wide image makes a direct band of 3M floats (12 MB): taken for the
  // call, released when its task ends, not held by the thread afterwards.
  {
    LayerParams p = layer(1, 1, 3, 1, 1, 1, PadMode::Reflect, 1);
    const CallShape s{1, 2, 1000000};
    const std::vector<float> x(size_t(2 * s.width), 1.0f), w(9, 1.0f);
    std::vector<float> out(size_t(2 * s.width));
    const int saved = get_num_threads();
    set_num_threads(1);
    reset_cost_counters();
    const ConvLayer l(p, w.data(), nullptr, active_isa(), Algorithm::Depthwise);
    l.forward(s, x.data(), out.data());
    set_num_threads(saved);
    CHECK(cost_counters().scratch_peak > kKeepScratchFloats, "the wide layer should need %lld floats, took %lld",
          (long long)kKeepScratchFloats, (long long)cost_counters().scratch_peak);
    CHECK(retained_scratch_floats() <= kKeepScratchFloats, "%lld floats of scratch kept after the call",
          (long long)retained_scratch_floats());
    CHECK(out[12345] == 9.0f, "wide layer: got %g, expected 9", out[12345]);
  }
  // The weight's element count wraps to 0 in int64 (2^31 x 2^31 x 4 = 2^64):
  // refused, naming the sizes, instead of passing the 2^31 limit.
  {
    LayerParams p = layer(1, k2p31, 1, 1, 0, 1);
    p.kernel_h = k2p31;
    p.kernel_w = 4;
    CHECK(throws_as<std::length_error>([&] { p.validate(); }, "2147483648"),
          "a weight of 2^64 elements must be refused with length_error naming the sizes");
    p.kernel_w = 1;
    CHECK(throws_as<std::length_error>([&] { p.validate(); }, "2^31"),
          "a weight of 2^62 elements must be refused with length_error");
  }
  // An output of 2^31 x 2^31 rows x 2^31 channels: refused, naming the sizes.
  {
    LayerParams p = layer(1, k2p31 / 2, 1, 1, k2p31, 1);
    CHECK(throws_as<std::length_error>([&] { output_size(p, CallShape{k2p31, 1, 1}); }, "output"),
          "an output whose element count overflows must be refused with length_error");
  }
  return test::finish("test_extreme_sizes");
}
