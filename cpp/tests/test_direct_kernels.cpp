// Every direct kernel this CPU can run (DirectKernel::fn, direct_kernel.h)
// against a scalar tap loop over its contract, bit for bit: output (oh, ow)
// of channel o is bias[o] then w[o][t] * in[oh*row_step + tap_off[t] + ow]
// added in t order, one FMA per tap on the SIMD ISAs. Over the edge sizes of
// its tiles: widths that are not a multiple of the vector width, 1..2*OB+1
// output channels, strides 1-3, dilation, the depthwise row-sharing paths
// (kernel_h/kh_step given) and the flat path (flat_n). Elements outside the
// output must stay untouched. Then the in-place depthwise kernels (dw3s1,
// dw3s2, dw5s1, dw5s2) against the same loop over the zero-padded plane and
// against fn on the padded copy pad_plane makes, over widths, heights and
// padding, with the plane between guard pages.
#include <algorithm>
#include <array>

#include "check.h"
#include "kernel_ref.h"
#include "simdconv/direct_kernel.h"

using namespace simdconv;

namespace {

struct Case {
  int64_t cin, kh, kw, sh, sw, dh, dw, out_h, out_w, n_out;
  bool bias, dw_meta, flat;
  int64_t extra;  // spare floats per phase row and between output rows
};

// The band layout the direct driver uses: each padded row split into sw
// phases of wq floats, rows_needed rows per input channel.
void run_case(const DirectKernel& K, const Case& c, std::mt19937& rng) {
  const int64_t cols = (c.out_w - 1) * c.sw + (c.kw - 1) * c.dw + 1;
  const int64_t wq = (cols + c.sw - 1) / c.sw + c.extra, rs = c.sw * wq;
  const int64_t rows = (c.out_h - 1) * c.sh + (c.kh - 1) * c.dh + 1, ps = rows * rs;
  const int64_t taps = c.cin * c.kh * c.kw;
  const auto in = test::random_vector(size_t(c.cin * ps + kDirectSlack), rng);
  const auto w = test::random_vector(size_t(c.n_out * taps), rng);
  const auto bias = test::random_vector(size_t(c.n_out), rng);
  std::vector<int64_t> tap_off;
  for (int64_t ci = 0; ci < c.cin; ++ci)
    for (int64_t kh = 0; kh < c.kh; ++kh)
      for (int64_t kw = 0; kw < c.kw; ++kw)
        tap_off.push_back(ci * ps + kh * c.dh * rs + (kw * c.dw) % c.sw * wq + (kw * c.dw) / c.sw);
  const int64_t ors = c.out_w + c.extra, ocs = c.out_h * ors + c.extra + 1;
  auto out = test::sentinel_vector(size_t(c.n_out * ocs + 5));

  DirectArgs a;
  a.in = in.data();
  a.tap_off = tap_off.data();
  a.taps = taps;
  a.row_step = c.sh * rs;
  a.w = w.data();
  a.bias = c.bias ? bias.data() : nullptr;
  a.out = out.data();
  a.out_stride = ocs;
  a.out_row_stride = ors;
  a.n_out = c.n_out;
  a.out_h = c.out_h;
  a.out_w = c.out_w;
  if (c.dw_meta && c.cin == 1) {
    a.kernel_h = c.kh;
    a.kernel_w = c.kw;
    a.kh_step = c.dh * rs;
  }
  if (c.flat && c.sh == 1 && c.sw == 1) a.flat_n = (c.out_h - 1) * a.row_step + c.out_w;
  K.fn(a);

  int bad = 0;
  for (int64_t i = 0; i < int64_t(out.size()) && bad < 3; ++i) {
    const int64_t o = i / ocs, rem = i % ocs, oh = rem / ors, ow = rem % ors;
    const bool owned = o < c.n_out && oh < c.out_h && ow < c.out_w;
    if (!owned) {
      if (!test::is_sentinel(out[size_t(i)])) {
        ++bad;
        CHECK(false, "%s: wrote outside the output at float %lld", K.name, (long long)i);
      }
      continue;
    }
    float want = c.bias ? bias[size_t(o)] : 0.0f;
    for (int64_t t = 0; t < taps; ++t)
      want = test::chain_step(K.isa, want, w[size_t(o * taps + t)],
                              in[size_t(oh * a.row_step + tap_off[size_t(t)] + ow)]);
    if (!test::same_bits(out[size_t(i)], want)) {
      ++bad;
      CHECK(false,
            "%s cin=%lld k=%lldx%lld s=%lld,%lld d=%lld,%lld out=%lldx%lldx%lld bias=%d meta=%d flat=%d: "
            "(o=%lld, %lld, %lld) got %.9g want %.9g",
            K.name, (long long)c.cin, (long long)c.kh, (long long)c.kw, (long long)c.sh, (long long)c.sw,
            (long long)c.dh, (long long)c.dw, (long long)c.n_out, (long long)c.out_h, (long long)c.out_w,
            int(c.bias), int(a.kernel_h > 0), int(a.flat_n > 0), (long long)o, (long long)oh,
            (long long)ow, out[size_t(i)], want);
    }
  }
}

// One in-place depthwise case: a k x k kernel at stride S over an H x W plane
// with zero padding (pad_top, pad_left; the bottom and right padding follow
// from out_h and out_w), output rows [oh0, oh0 + rows).
struct DwCase {
  int64_t k, S, H, W, pad_top, pad_left, out_h, out_w, oh0, rows;
  bool bias, plane_at_end;  // the plane ends (or starts) at an inaccessible page
};

// The in-place kernel against the tap loop over the zero-padded plane and
// against fn() over the padded copy pad_plane makes, bit for bit; it must
// write exactly rows [oh0, oh0 + rows) and read nothing outside the plane.
void run_dw(const DirectKernel& K, const DwCase& c, std::mt19937& rng) {
  const int64_t k = c.k, S = c.S, taps = k * k;
  const auto plane_v = test::random_vector(size_t(c.H * c.W), rng);
  const test::GuardedFloats plane(plane_v, c.plane_at_end);
  const auto w = test::random_vector(size_t(taps), rng);
  const auto bias = test::random_vector(1, rng);
  auto out = test::sentinel_vector(size_t(c.out_h * c.out_w + 3));
  const DwInPlaceArgs ia{plane.data(), c.H, c.W, c.pad_top, c.pad_left, w.data(),
                         c.bias ? bias.data() : nullptr, out.data(), c.out_w, c.oh0, c.rows};
  dw_in_place_kernel(K, k, S)(ia);

  // The padded path, as the layer runs it without the in-place kernel.
  const int64_t pad_right = std::max<int64_t>(0, (c.out_w - 1) * S + k - c.pad_left - c.W);
  const int64_t wq = (c.pad_left + c.W + pad_right + S - 1) / S, rs = S * wq;
  const int64_t band_rows = (c.rows - 1) * S + k;
  std::vector<float> band(size_t(band_rows * rs + kDirectSlack), 0.0f);
  K.pad_plane(PadPlaneArgs{plane_v.data(), c.H, c.W, c.oh0 * S, band_rows, c.pad_top, c.pad_left, pad_right,
                           S, wq, PadMode::Zeros, band.data()});
  std::vector<int64_t> tap_off;
  for (int64_t kh = 0; kh < k; ++kh)
    for (int64_t kw = 0; kw < k; ++kw) tap_off.push_back(kh * rs + kw % S * wq + kw / S);
  auto padded = test::sentinel_vector(size_t(c.rows * c.out_w));
  DirectArgs a;
  a.in = band.data();
  a.tap_off = tap_off.data();
  a.taps = taps;
  a.row_step = S * rs;
  a.w = w.data();
  a.bias = c.bias ? bias.data() : nullptr;
  a.out = padded.data();
  a.out_stride = c.rows * c.out_w;
  a.out_row_stride = c.out_w;
  a.n_out = 1;
  a.out_h = c.rows;
  a.out_w = c.out_w;
  a.kernel_h = a.kernel_w = k;
  a.kh_step = rs;
  K.fn(a);

  int bad = 0;
  for (int64_t i = 0; i < int64_t(out.size()) && bad < 3; ++i) {
    const int64_t oh = i / c.out_w, ow = i % c.out_w;
    if (oh < c.oh0 || oh >= c.oh0 + c.rows) {
      if (!test::is_sentinel(out[size_t(i)])) {
        ++bad;
        CHECK(false, "%s dw%llds%lld: wrote outside rows [%lld, %lld) at float %lld", K.name, (long long)k,
              (long long)S, (long long)c.oh0, (long long)(c.oh0 + c.rows), (long long)i);
      }
      continue;
    }
    float want = c.bias ? bias[0] : 0.0f;
    for (int64_t kh = 0; kh < k; ++kh)
      for (int64_t kw = 0; kw < k; ++kw) {
        const int64_t ih = oh * S - c.pad_top + kh, iw = ow * S - c.pad_left + kw;
        const float x = ih >= 0 && ih < c.H && iw >= 0 && iw < c.W ? plane_v[size_t(ih * c.W + iw)] : 0.0f;
        want = test::chain_step(K.isa, want, w[size_t(kh * k + kw)], x);
      }
    const float got = out[size_t(i)], via_fn = padded[size_t((oh - c.oh0) * c.out_w + ow)];
    if (!test::same_bits(got, want) || !test::same_bits(got, via_fn)) {
      ++bad;
      CHECK(false, "%s dw%llds%lld H=%lld W=%lld pad top=%lld left=%lld out=%lldx%lld rows [%lld, %lld) "
            "(%lld, %lld): got %.9g, tap loop %.9g, padded path %.9g", K.name, (long long)k, (long long)S,
            (long long)c.H, (long long)c.W, (long long)c.pad_top, (long long)c.pad_left, (long long)c.out_h,
            (long long)c.out_w, (long long)c.oh0, (long long)(c.oh0 + c.rows), (long long)oh, (long long)ow,
            got, want, via_fn);
    }
  }
}

}  // namespace

int main() {
  std::mt19937 rng(4321);
  const DirectKernel* kernels[8];
  const int nk = runnable_direct_kernels(kernels, 8);
  CHECK(nk >= 1 && kernels[0]->isa == Isa::Scalar, "the scalar kernel must always run");
  for (int ki = 0; ki < nk; ++ki) {
    const DirectKernel& K = *kernels[ki];
    int cases = 0;
    // Every width up to four 16-float vectors and past, on each path of fn:
    // dense 1x1 (flat and not), dense 3x3 over 2-3 channels, 3x3 depthwise
    // stride 1 and 2 (the dw3 tiles), 5x5 and 3x2 depthwise (the dw tiles).
    const Case shapes[] = {
        {1, 1, 1, 1, 1, 1, 1, 0, 0, 0, true, false, true, 0},
        {1, 1, 1, 1, 1, 1, 1, 0, 0, 0, false, false, false, 1},
        {3, 3, 3, 1, 1, 1, 1, 0, 0, 0, true, false, true, 2},
        {2, 3, 3, 2, 2, 1, 1, 0, 0, 0, true, false, false, 0},
        {1, 3, 3, 1, 1, 1, 1, 0, 0, 0, true, true, false, 1},
        {1, 3, 3, 2, 2, 1, 1, 0, 0, 0, false, true, false, 0},
        {1, 5, 5, 1, 1, 1, 1, 0, 0, 0, true, true, false, 3},
        {1, 3, 2, 2, 1, 2, 1, 0, 0, 0, true, true, false, 0},  // stride_h == dilation_h: dw tiles
    };
    for (Case c : shapes)
      for (int64_t ow = 1; ow <= 70; ++ow)
        for (int64_t oh : {1, 2, 5})
          for (int64_t n : {1, 3}) {
            c.out_w = ow, c.out_h = oh, c.n_out = n;
            run_case(K, c, rng);
            ++cases;
          }
    // Every output-channel count around the dense tile's channel blocks.
    for (Case c : shapes)
      for (int64_t n = 1; n <= 17; ++n)
        for (int64_t ow : {7, 33}) {
          c.out_w = ow, c.out_h = 3, c.n_out = n;
          run_case(K, c, rng);
          ++cases;
        }
    // Random geometry: strides 1-3, dilations 1-3, kernels up to 5x5.
    std::uniform_int_distribution<int64_t> d13(1, 3), d15(1, 5), d17(1, 7), d140(1, 40), d110(1, 10), d02(0, 2);
    for (int i = 0; i < 400; ++i) {
      Case c{d13(rng), d15(rng), d15(rng), d13(rng), d13(rng), d13(rng), d13(rng), d17(rng), d140(rng),
             d110(rng), d02(rng) != 0, d02(rng) != 0, d02(rng) != 0, d02(rng)};
      if (i % 3 == 0) c.cin = 1;
      if (i % 4 == 0) c.sh = c.dh;  // the depthwise row-sharing condition
      if (i % 5 == 0) c.sh = c.sw = 1;  // the flat path
      run_case(K, c, rng);
      ++cases;
    }
    std::printf("kernel %s: %d fn cases\n", K.name, cases);

    // The in-place depthwise kernels: every kernel size and stride (every
    // SIMD ISA has them all; the scalar build has none), widths 1..70 and past (every column tail and every edge and
    // interior tile of each ISA's blocks), heights 1..13 (the row groups and
    // the single rows after them, rows inside and outside the plane), left
    // padding 0 to past the kernel, right and bottom padding that put whole
    // vectors or rows past the plane, the whole plane and a band of rows, the
    // plane against a guard page at either end.
    int dw_cases = 0;
    for (int64_t k : {3, 5})
      for (int64_t S : {1, 2}) {
        if (dw_in_place_kernel(K, k, S) == nullptr) {  // every SIMD ISA has them all
          CHECK(K.isa == Isa::Scalar, "%s has no in-place depthwise kernel for %lldx%lld stride %lld", K.name,
                (long long)k, (long long)k, (long long)S);
          continue;
        }
        std::vector<int64_t> widths;
        for (int64_t W = 1; W <= 70; ++W) widths.push_back(W);
        for (int64_t W : {97, 130, 131, 150, 200}) widths.push_back(W);
        for (int64_t W : widths)
          for (int64_t H : {1, 2, 3, 5, 8, 13})
            for (int64_t pad_left : {int64_t(0), int64_t(1), k / 2, k - 1, k + 3}) {
              const int64_t v = W + H + pad_left;
              const int64_t pad_top = v % (k + 1);
              const int64_t pad_right = std::array<int64_t, 4>{0, 1, k / 2, 40}[size_t((3 * W + H) % 4)];
              const int64_t pad_bottom = (W + 2 * H) % k;
              const int64_t wp = W + pad_left + pad_right, hp = H + pad_top + pad_bottom;
              if (wp < k || hp < k) continue;
              DwCase c{k, S, H, W, pad_top, pad_left, (hp - k) / S + 1, (wp - k) / S + 1, 0, 0,
                       v % 2 == 0, v % 3 == 0};
              c.rows = c.out_h;
              run_dw(K, c, rng);
              ++dw_cases;
              if (c.out_h > 2) {
                c.oh0 = 1, c.rows = c.out_h - 2, c.bias = !c.bias, c.plane_at_end = !c.plane_at_end;
                run_dw(K, c, rng);
                ++dw_cases;
              }
            }
      }
    std::printf("kernel %s: %d in-place depthwise cases\n", K.name, dw_cases);
  }
  return test::finish("test_direct_kernels");
}
