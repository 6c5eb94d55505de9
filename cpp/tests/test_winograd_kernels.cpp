// Winograd F(2x2, 3x3) (winograd.h) at kernel level: the weight transform,
// and the input and output transforms of every ISA this CPU runs that has
// them (kernels_for + cpu_supports), against scalar double computations of
// B^T d B and A^T M A over tile counts around the vector widths, 1-3 tile
// rows, the dilated layouts (odd_offset = d * wq, col_step = d), partial
// tiles at the output's edge, bias on/off. Elements outside what a transform
// owns must stay untouched.
#include <algorithm>

#include "check.h"
#include "kernel_ref.h"
#include "simdconv/kernels.h"
#include "simdconv/winograd.h"

using namespace simdconv;

namespace {

const double kBT[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
const double kAT[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};

// L x L^T for a 4x4 x: V = B^T d B (L = B^T, R = 4) and Y = A^T M A (L =
// A^T, R = 2), each with the sum of the magnitudes of its terms (for the
// tolerance).
template <int R>
void sandwich(const double (&l)[R][4], const double x[4][4], double y[R][R], double mag[R][R]) {
  for (int a = 0; a < R; ++a)
    for (int b = 0; b < R; ++b) {
      double s = 0, g = 0;
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
          const double t = l[a][i] * x[i][j] * l[b][j];
          s += t, g += std::fabs(t);
        }
      y[a][b] = s, mag[a][b] = g;
    }
}

void input_transform(const double d[4][4], double v[4][4], double mag[4][4]) { sandwich(kBT, d, v, mag); }
void output_transform(const double m[4][4], double y[2][2], double mag[2][2]) { sandwich(kAT, m, y, mag); }

// U = G g G^T must make A^T (U . B^T d B) A the 3x3 correlation of the 4x4
// tile d with g (the F(2x2, 3x3) identity), up to U's rounding to float.
void check_weight_transform(std::mt19937& rng) {
  for (int rep = 0; rep < 200; ++rep) {
    const auto g = test::random_vector(9, rng);
    const auto dv = test::random_vector(16, rng);
    float u[16];
    winograd_weight_transform(g.data(), u);
    double d[4][4], v[4][4], vmag[4][4], m[4][4], y[2][2], ymag[2][2];
    for (int i = 0; i < 16; ++i) d[i / 4][i % 4] = dv[size_t(i)];
    input_transform(d, v, vmag);
    for (int i = 0; i < 16; ++i) m[i / 4][i % 4] = double(u[i]) * v[i / 4][i % 4];
    output_transform(m, y, ymag);
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) {
        double want = 0, mag = 0;
        for (int kh = 0; kh < 3; ++kh)
          for (int kw = 0; kw < 3; ++kw) {
            want += double(g[size_t(kh * 3 + kw)]) * d[a + kh][b + kw];
            mag += std::fabs(double(g[size_t(kh * 3 + kw)]) * d[a + kh][b + kw]);
          }
        CHECK(test::close(float(y[a][b]), float(want), 16, mag + ymag[a][b]),
              "winograd_weight_transform rep %d: output (%d, %d) is %.9g, the 3x3 correlation %.9g", rep, a,
              b, y[a][b], want);
      }
  }
}

void check_input(const WinogradKernel& K, int64_t tiles_w, int64_t rows, int64_t dil, std::mt19937& rng) {
  const int64_t wq = tiles_w + 1 + dil % 2, row_stride = 2 * dil * wq, odd = dil * wq;
  const int64_t band_n = (2 * rows + 1) * row_stride + odd + tiles_w + 1;
  const auto band = test::random_vector(size_t(band_n + 64), rng);  // + the direct kernels' slack
  const int64_t nt = rows * tiles_w, v_plane = nt + 3;
  auto v = test::sentinel_vector(size_t(16 * v_plane));
  K.input(WinogradInputArgs{band.data(), row_stride, odd, tiles_w, rows, v.data(), v_plane});
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t tw = 0; tw < tiles_w; ++tw) {
      double d[4][4], want[4][4], mag[4][4];
      for (int r = 0; r < 4; ++r) {
        const float* row = band.data() + (2 * i + r) * row_stride;
        const float col[4] = {row[tw], row[odd + tw], row[tw + 1], row[odd + tw + 1]};
        for (int c = 0; c < 4; ++c) d[r][c] = col[c];
      }
      input_transform(d, want, mag);
      for (int e = 0; e < 16; ++e) {
        const float got = v[size_t(e * v_plane + i * tiles_w + tw)];
        CHECK(test::close(got, float(want[e / 4][e % 4]), 4, mag[e / 4][e % 4]),
              "%s input tiles_w=%lld rows=%lld dilation=%lld tile (%lld, %lld) V[%d]: got %.9g want %.9g",
              K.name, (long long)tiles_w, (long long)rows, (long long)dil, (long long)i, (long long)tw, e, got,
              want[e / 4][e % 4]);
      }
    }
  for (int e = 0; e < 16; ++e)
    for (int64_t t = nt; t < v_plane; ++t)
      CHECK(test::is_sentinel(v[size_t(e * v_plane + t)]), "%s input tiles_w=%lld rows=%lld: wrote V[%d] past tile %lld",
            K.name, (long long)tiles_w, (long long)rows, e, (long long)t);
}

void check_output(const WinogradKernel& K, int64_t tiles_w, int64_t rows, int64_t out_h, int64_t out_w,
                  int64_t col_step, bool with_bias, std::mt19937& rng) {
  const int64_t nt = rows * tiles_w, m_plane = nt + 2;
  const auto m = test::random_vector(size_t(16 * m_plane), rng);
  const auto bias = test::random_vector(1, rng);
  const int64_t ors = 2 * tiles_w * col_step + 3, h_alloc = std::max(out_h, 2 * rows) + 1;
  auto out = test::sentinel_vector(size_t(h_alloc * ors));
  K.output(WinogradOutputArgs{m.data(), m_plane, tiles_w, rows, with_bias ? bias.data() : nullptr, out.data(),
                              ors, out_h, out_w, col_step});
  std::vector<bool> owned(out.size(), false);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t tw = 0; tw < tiles_w; ++tw) {
      double mm[4][4], y[2][2], mag[2][2];
      for (int e = 0; e < 16; ++e) mm[e / 4][e % 4] = m[size_t(e * m_plane + i * tiles_w + tw)];
      output_transform(mm, y, mag);
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b) {
          const int64_t oy = 2 * i + a, ox = 2 * tw + b;
          if (oy >= out_h || ox >= out_w) continue;
          const size_t at = size_t(oy * ors + ox * col_step);
          owned[at] = true;
          const double want = y[a][b] + (with_bias ? bias[0] : 0.0);
          CHECK(test::close(out[at], float(want), 5, mag[a][b] + (with_bias ? std::fabs(bias[0]) : 0.0)),
                "%s output tiles_w=%lld rows=%lld out %lldx%lld col_step=%lld bias=%d (%lld, %lld): got %.9g want %.9g",
                K.name, (long long)tiles_w, (long long)rows, (long long)out_h, (long long)out_w,
                (long long)col_step, int(with_bias), (long long)oy, (long long)ox, out[at], want);
        }
    }
  for (size_t i = 0; i < out.size(); ++i)
    if (!owned[i] && !test::is_sentinel(out[i])) {
      CHECK(false, "%s output tiles_w=%lld rows=%lld out %lldx%lld col_step=%lld: wrote float %zu it does not own",
            K.name, (long long)tiles_w, (long long)rows, (long long)out_h, (long long)out_w, (long long)col_step, i);
      break;
    }
}

}  // namespace

int main() {
  std::mt19937 rng(99);
  check_weight_transform(rng);
  int tested = 0;
  for (Isa isa : {Isa::Scalar, Isa::Neon, Isa::Avx2, Isa::Avx512}) {
    const IsaKernels* k = kernels_for(isa);
    if (k == nullptr || k->winograd == nullptr || !cpu_supports(isa)) continue;
    const WinogradKernel& K = *k->winograd;
    int cases = 0;
    for (int64_t tiles_w = 1; tiles_w <= 40; ++tiles_w)
      for (int64_t rows = 1; rows <= 3; ++rows) {
        for (int64_t dil = 1; dil <= 3; ++dil, ++cases) check_input(K, tiles_w, rows, dil, rng);
        for (int64_t col_step = 1; col_step <= 3; ++col_step)
          for (int64_t dh : {-1, 0, 3})
            for (int64_t dw : {-1, 0}) {
              check_output(K, tiles_w, rows, 2 * rows + dh, 2 * tiles_w + dw, col_step,
                           (tiles_w + rows + col_step) % 2 == 0, rng);
              ++cases;
            }
      }
    std::printf("winograd kernel %s: %d transform cases\n", K.name, cases);
    ++tested;
  }
  std::printf("weight transform checked; %d ISA(s) with Winograd transforms on this CPU\n", tested);
  return test::finish("test_winograd_kernels");
}
