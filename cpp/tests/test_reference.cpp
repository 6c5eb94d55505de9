// The oracle against values worked out by hand, including each padding mode's
// index mapping, so the reference itself is checked before it checks others.
#include "check.h"
#include "simdconv/reference_conv.h"

using namespace simdconv;

static std::vector<float> run(const LayerParams& p, const CallShape& s, const std::vector<float>& x,
                              const std::vector<float>& w, const float* bias) {
  const OutputSize o = output_size(p, s);
  std::vector<float> y(size_t(s.batch * p.out_channels * o.height * o.width), -999.0f);
  reference_conv2d(p, s, x.data(), w.data(), bias, y.data());
  return y;
}

int main() {
  // 1x3 input [1 2 3], kernel [1 10 100] (1x3), padding 1 on the width.
  // Padded rows per mode: zeros 0 1 2 3 0 ; reflect 2 1 2 3 2 ; replicate 1 1 2 3 3 ; circular 3 1 2 3 1
  const std::vector<float> x = {1, 2, 3}, w = {1, 10, 100};
  struct Case { PadMode mode; std::vector<float> want; };
  const Case cases[] = {
      {PadMode::Zeros, {0 + 10 + 200, 1 + 20 + 300, 2 + 30 + 0}},
      {PadMode::Reflect, {2 + 10 + 200, 1 + 20 + 300, 2 + 30 + 200}},
      {PadMode::Replicate, {1 + 10 + 200, 1 + 20 + 300, 2 + 30 + 300}},
      {PadMode::Circular, {3 + 10 + 200, 1 + 20 + 300, 2 + 30 + 100}},
  };
  for (const Case& c : cases) {
    LayerParams p;
    p.in_channels = p.out_channels = 1;
    p.kernel_h = 1; p.kernel_w = 3;
    p.pad_left = p.pad_right = 1;
    p.pad_mode = c.mode;
    const auto y = run(p, {1, 1, 3}, x, w, nullptr);
    for (size_t i = 0; i < 3; ++i)
      CHECK(y[i] == c.want[i], "mode %s elem %zu: got %g want %g", pad_mode_name(c.mode), i, y[i], c.want[i]);
  }

  // Stride, dilation, groups and bias: 2 groups, 1 in / 1 out channel each,
  // 2x2 kernel with dilation 2 over a 3x3 input -> 1x1 output per channel.
  {
    LayerParams p;
    p.in_channels = p.out_channels = p.groups = 2;
    p.kernel_h = p.kernel_w = 2;
    p.dilation_h = p.dilation_w = 2;
    std::vector<float> in(18);
    for (int i = 0; i < 18; ++i) in[size_t(i)] = float(i);
    const std::vector<float> wt = {1, 1, 1, 1, 1, 0, 0, -1};
    const float bias[2] = {0.5f, -0.5f};
    const auto y = run(p, {1, 3, 3}, in, wt, bias);
    // corners of channel 0: 0+2+6+8 = 16 ; channel 1: 9 - 17 = -8
    CHECK(y.size() == 2, "size %zu", y.size());
    CHECK(y[0] == 16.5f && y[1] == -8.5f, "got %g %g", y[0], y[1]);
  }

  // Asymmetric padding (top 0, bottom 1) and stride 2 give the expected size.
  {
    LayerParams p;
    p.in_channels = p.out_channels = 1;
    p.kernel_h = p.kernel_w = 2;
    p.stride_h = p.stride_w = 2;
    p.pad_bottom = 1;
    const OutputSize o = output_size(p, {1, 5, 4});
    CHECK(o.height == 3 && o.width == 2, "got %lld x %lld", (long long)o.height, (long long)o.width);
  }

  // PyTorch's errors: reflect pad must be < size, circular <= size, output >= 1.
  {
    LayerParams p;
    p.in_channels = p.out_channels = 1;
    p.kernel_h = p.kernel_w = 1;
    p.pad_left = p.pad_right = 3;
    p.pad_mode = PadMode::Reflect;
    CHECK(test::throws([&] { output_size(p, {1, 3, 3}); }), "reflect pad 3 on width 3 must throw");
    CHECK(!test::throws([&] { output_size(p, {1, 4, 4}); }), "reflect pad 3 on width 4 is valid");
    p.pad_mode = PadMode::Circular;
    CHECK(!test::throws([&] { output_size(p, {1, 3, 3}); }), "circular pad 3 on width 3 is valid");
    CHECK(test::throws([&] { output_size(p, {1, 2, 2}); }), "circular pad 3 on width 2 must throw");
    LayerParams q;
    q.in_channels = q.out_channels = 1;
    q.kernel_h = q.kernel_w = 5;
    CHECK(test::throws([&] { output_size(q, {1, 4, 9}); }), "kernel larger than input must throw");
    q.groups = 2;
    CHECK(test::throws([&] { q.validate(); }), "groups not dividing channels must throw");
  }
  return test::finish("test_reference");
}
