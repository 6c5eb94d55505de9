// pad_plane (PadPlaneArgs, direct_kernel.h) of every direct kernel this CPU
// can run, against map_index (conv_params.h) element by element: all four
// padding modes, column strides 1-4 (the phase split; 2 has its own
// deinterleave per ISA), widths around the vector widths, asymmetric
// padding, row steps 1-3 (Winograd on dilated layers), spare floats per
// phase row. Every padded element lands at phase x % stride, index
// x / stride; the floats of a row past the padded input may only be zeroed;
// nothing past the last row is written.
#include "check.h"
#include "kernel_ref.h"
#include "simdconv/conv_params.h"
#include "simdconv/direct_kernel.h"

using namespace simdconv;

namespace {

// PyTorch's limits per mode: reflect needs pad < size, circular pad <= size.
bool pad_ok(PadMode m, int64_t pad, int64_t size) {
  if (m == PadMode::Reflect) return pad < size;
  if (m == PadMode::Circular) return pad <= size;
  return true;
}

struct Geometry {
  int64_t h, w, pad_top, pad_bottom, pad_left, pad_right, stride, extra, y0, y_step;
  PadMode mode;
};

int run(const DirectKernel& K, const Geometry& g, std::mt19937& rng) {
  const int64_t n = g.pad_left + g.w + g.pad_right, hp = g.pad_top + g.h + g.pad_bottom;
  const int64_t wq = (n + g.stride - 1) / g.stride + g.extra, rs = g.stride * wq;
  const int64_t rows = (hp - 1 - g.y0) / g.y_step + 1;
  const auto plane = test::random_vector(size_t(g.h * g.w), rng);
  auto dst = test::sentinel_vector(size_t(rows * rs + 9));
  PadPlaneArgs a{plane.data(), g.h, g.w, g.y0, rows, g.pad_top, g.pad_left, g.pad_right, g.stride, wq,
                 g.mode, dst.data()};
  a.y_step = g.y_step;
  K.pad_plane(a);

  std::vector<float> want = test::sentinel_vector(dst.size());
  std::vector<bool> owned(dst.size(), false);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t ih = map_index(g.y0 + r * g.y_step - g.pad_top, g.h, g.mode);
    for (int64_t x = 0; x < n; ++x) {
      const int64_t ic = map_index(x - g.pad_left, g.w, g.mode);
      const size_t at = size_t(r * rs + (x % g.stride) * wq + x / g.stride);
      want[at] = ih < 0 || ic < 0 ? 0.0f : plane[size_t(ih * g.w + ic)];
      owned[at] = true;
    }
  }
  for (size_t i = 0; i < dst.size(); ++i) {
    const bool ok = owned[i] ? test::same_bits(dst[i], want[i])
                             : test::is_sentinel(dst[i]) || (i < size_t(rows * rs) && test::same_bits(dst[i], 0.0f));
    if (!ok) {
      CHECK(false, "%s pad_plane %s h=%lld w=%lld pads t%lld b%lld l%lld r%lld stride=%lld wq=%lld y0=%lld "
            "y_step=%lld rows=%lld: float %zu (row %lld) is %.9g, want %s%.9g", K.name, pad_mode_name(g.mode),
            (long long)g.h, (long long)g.w, (long long)g.pad_top, (long long)g.pad_bottom,
            (long long)g.pad_left, (long long)g.pad_right, (long long)g.stride, (long long)wq, (long long)g.y0,
            (long long)g.y_step, (long long)rows, i, (long long)(i / size_t(rs)), dst[i],
            owned[i] ? "" : "untouched or 0, not ", owned[i] ? want[i] : dst[i]);
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main() {
  std::mt19937 rng(777);
  const DirectKernel* kernels[8];
  const int nk = runnable_direct_kernels(kernels, 8);
  CHECK(nk >= 1 && kernels[0]->isa == Isa::Scalar, "the scalar kernel must always run");
  const PadMode modes[] = {PadMode::Zeros, PadMode::Reflect, PadMode::Replicate, PadMode::Circular};
  const int64_t lr_pads[][2] = {{0, 0}, {1, 1}, {2, 0}, {0, 3}, {3, 5}};
  const int64_t tb_pads[][2] = {{0, 0}, {1, 2}, {2, 1}};
  std::vector<int64_t> widths;
  for (int64_t w = 1; w <= 36; ++w) widths.push_back(w);
  for (int64_t w : {47, 63, 64, 65, 70}) widths.push_back(w);
  for (int ki = 0; ki < nk; ++ki) {
    const DirectKernel& K = *kernels[ki];
    int cases = 0, failed = 0;
    for (PadMode mode : modes)
      for (int64_t stride = 1; stride <= 4; ++stride)
        for (int64_t w : widths)
          for (const auto& lr : lr_pads)
            for (int64_t h : {1, 2, 4})
              for (const auto& tb : tb_pads)
                for (int64_t y_step = 1; y_step <= 3; ++y_step) {
                  if (!pad_ok(mode, lr[0], w) || !pad_ok(mode, lr[1], w) || !pad_ok(mode, tb[0], h) ||
                      !pad_ok(mode, tb[1], h))
                    continue;
                  const int64_t y0 = (w + h) % 2, hp = tb[0] + h + tb[1];
                  if (y0 >= hp) continue;
                  const Geometry g{h, w, tb[0], tb[1], lr[0], lr[1], stride, (w + stride) % 3, y0, y_step, mode};
                  failed += run(K, g, rng);
                  ++cases;
                }
    std::printf("kernel %s: %d pad_plane cases, %d failed\n", K.name, cases, failed);
  }
  return test::finish("test_pad_plane");
}
