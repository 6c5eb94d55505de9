// Every direct kernel this CPU can run (DirectKernel::fn, direct_kernel.h)
// against a scalar tap loop over its contract, bit for bit: output (oh, ow)
// of channel o is bias[o] then w[o][t] * in[oh*row_step + tap_off[t] + ow]
// added in t order, one FMA per tap on the SIMD ISAs. Over the edge sizes of
// its tiles: widths that are not a multiple of the vector width, 1..2*OB+1
// output channels, strides 1-3, dilation, the depthwise row-sharing paths
// (kernel_h/kh_step given) and the flat path (flat_n). Elements outside the
// output must stay untouched. Then the AVX-512 in-place 3x3 depthwise kernels
// (dw3s1, dw3s2) against the same loop over the zero-padded plane and against
// fn on the padded copy pad_plane makes, over widths, heights and pad_top.
#include <algorithm>

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

// The in-place kernel on rows [oh0, oh0 + rows) of a plane, against the tap
// loop over the zero-padded plane and against fn() over the padded copy.
void run_dw3(const DirectKernel& K, int64_t S, int64_t H, int64_t W, int64_t pad_top, int64_t out_h,
             int64_t out_w, int64_t oh0, int64_t rows, bool with_bias, std::mt19937& rng) {
  const auto plane = test::random_vector(size_t(H * W), rng);
  const auto w9 = test::random_vector(9, rng);
  const auto bias = test::random_vector(1, rng);
  auto out = test::sentinel_vector(size_t(out_h * out_w + 3));
  const Dw3InPlaceArgs ia{plane.data(), H, W, pad_top, w9.data(), with_bias ? bias.data() : nullptr,
                          out.data(), out_w, oh0, rows};
  (S == 1 ? K.dw3s1 : K.dw3s2)(ia);

  // The padded path, as the layer runs it without the in-place kernel.
  const int64_t pad_right = std::max<int64_t>(0, (out_w - 1) * S + 3 - 1 - W);
  const int64_t wq = (1 + W + pad_right + S - 1) / S, rs = S * wq;
  const int64_t band_rows = (rows - 1) * S + 3;
  std::vector<float> band(size_t(band_rows * rs + kDirectSlack), 0.0f);
  K.pad_plane(PadPlaneArgs{plane.data(), H, W, oh0 * S, band_rows, pad_top, 1, pad_right, S, wq,
                           PadMode::Zeros, band.data()});
  const int64_t tap_off[9] = {0, 1 % S * wq + 1 / S, 2 % S * wq + 2 / S,
                              rs, rs + 1 % S * wq + 1 / S, rs + 2 % S * wq + 2 / S,
                              2 * rs, 2 * rs + 1 % S * wq + 1 / S, 2 * rs + 2 % S * wq + 2 / S};
  auto padded = test::sentinel_vector(size_t(rows * out_w));
  DirectArgs a;
  a.in = band.data();
  a.tap_off = tap_off;
  a.taps = 9;
  a.row_step = S * rs;
  a.w = w9.data();
  a.bias = with_bias ? bias.data() : nullptr;
  a.out = padded.data();
  a.out_stride = rows * out_w;
  a.out_row_stride = out_w;
  a.n_out = 1;
  a.out_h = rows;
  a.out_w = out_w;
  a.kernel_h = a.kernel_w = 3;
  a.kh_step = rs;
  K.fn(a);

  int bad = 0;
  for (int64_t i = 0; i < int64_t(out.size()) && bad < 3; ++i) {
    const int64_t oh = i / out_w, ow = i % out_w;
    if (oh < oh0 || oh >= oh0 + rows) {
      if (!test::is_sentinel(out[size_t(i)])) {
        ++bad;
        CHECK(false, "%s dw3s%lld: wrote outside rows [%lld, %lld) at float %lld", K.name, (long long)S,
              (long long)oh0, (long long)(oh0 + rows), (long long)i);
      }
      continue;
    }
    float want = with_bias ? bias[0] : 0.0f;
    for (int64_t kh = 0; kh < 3; ++kh)
      for (int64_t kw = 0; kw < 3; ++kw) {
        const int64_t ih = oh * S - pad_top + kh, iw = ow * S - 1 + kw;
        const float x = ih >= 0 && ih < H && iw >= 0 && iw < W ? plane[size_t(ih * W + iw)] : 0.0f;
        want = test::chain_step(K.isa, want, w9[size_t(kh * 3 + kw)], x);
      }
    const float got = out[size_t(i)], via_fn = padded[size_t((oh - oh0) * out_w + ow)];
    if (!test::same_bits(got, want) || !test::same_bits(got, via_fn)) {
      ++bad;
      CHECK(false, "%s dw3s%lld H=%lld W=%lld pad_top=%lld out=%lldx%lld rows [%lld, %lld) (%lld, %lld): "
            "got %.9g, tap loop %.9g, padded path %.9g", K.name, (long long)S, (long long)H, (long long)W,
            (long long)pad_top, (long long)out_h, (long long)out_w, (long long)oh0, (long long)(oh0 + rows),
            (long long)oh, (long long)ow, got, want, via_fn);
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

    if (K.dw3s1 == nullptr && K.dw3s2 == nullptr) continue;
    int dw3_cases = 0;
    for (int64_t S : {1, 2}) {
      if ((S == 1 ? K.dw3s1 : K.dw3s2) == nullptr) continue;
      for (int64_t W = 1; W <= 70; ++W)
        for (int64_t H : {1, 2, 3, 5, 8})
          for (int64_t pad_top : {0, 1, 2})
            for (int64_t pad_right : {0, 1, 2, 19, 40})
              for (int64_t pad_bottom : {0, 2}) {
                const int64_t out_w = (W + 1 + pad_right - 3) / S + 1;
                const int64_t out_h = (H + pad_top + pad_bottom - 3) / S + 1;
                if (out_w < 1 || out_h < 1 || W + 1 + pad_right < 3 || H + pad_top + pad_bottom < 3) continue;
                run_dw3(K, S, H, W, pad_top, out_h, out_w, 0, out_h, (W + H) % 2 == 0, rng);
                if (out_h > 2) run_dw3(K, S, H, W, pad_top, out_h, out_w, 1, out_h - 2, W % 2 == 0, rng);
                dw3_cases += out_h > 2 ? 2 : 1;
              }
    }
    std::printf("kernel %s: %d in-place 3x3 depthwise cases\n", K.name, dw3_cases);
  }
  return test::finish("test_direct_kernels");
}
