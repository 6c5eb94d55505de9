// Every activation kernel this CPU can run (kernels_for(isa)->act, the
// scalar one always), each activation with several parameter sets, with and
// without residual, against PyTorch's formula (activation_kernel.h) in double
// precision:
//   - every length 0..70 (each ISA's vector tails) at an unaligned start,
//     with guard values on both sides that must stay untouched;
//   - a long run, and a sweep over float bit patterns (every binade, both
//     signs, subnormals) for the accuracy bound of each activation;
//   - special values (NaN, +-inf, +-0, subnormals, FLT_MAX, overflow and
//     saturation thresholds) exactly: NaN iff the formula gives NaN, infinities
//     and zeros with the formula's sign.
// The formula's special values are PyTorch 1.13's: act_specials.inc holds
// F.*'s outputs for them (scripts/gen-act-specials.py), checked against the
// reference here first, so reference and PyTorch agree where it matters.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "act_ref.h"
#include "check.h"
#include "kernel_ref.h"
#include "simdconv/kernels.h"

using namespace simdconv;

namespace {

// PyTorch's formulas in double and the kernels' accuracy bounds (shared
// with test_epilogue and the fuzzer).
using namespace test::act;

float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Largest error seen per activation, in units of 2^-23 * its bound's scale.
struct Worst {
  double err_ulps[16] = {};
};

// Checks one output: NaN iff the formula's NaN, zeros and infinities with
// the formula's sign, finite values within the bound.
bool check_one(const ActivationKernel& K, const Activation& a, float x, float got, Worst* worst, const char* what,
               size_t i) {
  const double ref = reference(a, double(x));
  const Bound b = bound_of(a.kind);
  bool ok;
  if (std::isnan(ref) || std::isnan(got)) {
    ok = std::isnan(ref) && std::isnan(got);
  } else if (b.ulps == 0 || std::isinf(ref) || std::isinf(got)) {
    ok = test::same_bits(got, float(ref));  // exact kinds, and every infinity
  } else {
    const double scale = scale_of(b, a, double(x), ref);
    const double err = std::fabs(double(got) - ref);
    ok = err <= b.ulps * 0x1p-23 * scale + b.abs;
    // Zeros have the formula's sign, except where the formula cancels (ELU's
    // exp(x) - 1, GELU's 1 + erf): there a zero's sign is float's (elu(-1e-20)
    // is +0 in PyTorch too; alpha = 0 then gives +0, double's -tiny * 0 is -0),
    // but not at x = +-0 itself.
    if ((ref == 0 || got == 0) && (b.scale == Scale::Ref || x == 0))
      ok = ok && std::signbit(got) == std::signbit(ref);
    if (scale > 0x1p-100 && worst != nullptr) {
      double& w = worst->err_ulps[int(a.kind)];
      w = std::max(w, err / (0x1p-23 * scale));
    }
  }
  CHECK(ok, "%s %s(%g, %g) %s [%zu]: x=%.9g got %.9g, the formula gives %.17g", K.name, act_kind_name(a.kind),
        double(a.alpha), double(a.beta), what, i, double(x), double(got), ref);
  return ok;
}

// Runs K over y (and the residual r, or none) and checks every output.
// Returns the failures' count for this run (to stop a flood of messages).
int run_and_check(const ActivationKernel& K, const Activation& a, const std::vector<float>& y,
                  const std::vector<float>* r, size_t lead, Worst* worst, const char* what) {
  constexpr size_t kGuard = 17;
  const float guard = bits_to_float(0x7fa5a5a5u);  // a signalling-NaN pattern no kernel produces
  const size_t n = y.size();
  std::vector<float> buf(lead + n + kGuard, guard);
  std::copy(y.begin(), y.end(), buf.begin() + long(lead));
  // The residual in a buffer of exactly n floats: a read past it is an
  // out-of-bounds read the ASan build reports.
  std::vector<float> res;
  if (r != nullptr) res = *r;
  K.apply(a, buf.data() + lead, r != nullptr ? res.data() : nullptr, n);
  int bad = 0;
  for (size_t i = 0; i < lead; ++i)
    if (!test::same_bits(buf[i], guard)) ++bad;
  for (size_t i = lead + n; i < buf.size(); ++i)
    if (!test::same_bits(buf[i], guard)) ++bad;
  CHECK(bad == 0, "%s %s %s n=%zu: %d guard values outside [0, n) overwritten", K.name, act_kind_name(a.kind),
        what, n, bad);
  for (size_t i = 0; i < n && bad < 5; ++i) {
    const float x = r != nullptr ? y[i] + (*r)[i] : y[i];
    if (!check_one(K, a, x, buf[lead + i], worst, what, i)) ++bad;
  }
  return bad;
}

// Inputs of every scale: mostly where the functions bend ([-8, 8]), some
// around exp's overflow and erf's/tanh's saturation, some of any magnitude.
std::vector<float> mixed_inputs(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> core(-8, 8), wide(-120, 120), e(-140, 127);
  std::uniform_int_distribution<int> pick(0, 9);
  std::vector<float> v(n);
  for (float& x : v) {
    const int p = pick(rng);
    x = p < 7 ? core(rng) : p < 9 ? wide(rng) : std::ldexp(p % 2 ? 1.0f : -1.0f, int(e(rng))) * 1.37f;
  }
  return v;
}

const std::pair<float, float> kHardtanhRanges[] = {{-1, 1}, {0, 6}, {-2.5f, 0.5f}, {0, 0}, {-0.0f, 0.0f}, {2, 3}};

std::vector<Activation> activations() {
  std::vector<Activation> v;
  for (int k = 0; k <= int(ActKind::GeluTanh); ++k) {
    const ActKind kind = ActKind(k);
    if (kind == ActKind::LeakyRelu)
      for (float s : {0.01f, 0.2f, -0.5f, 0.0f, 1.5f}) v.push_back({kind, s, 0});
    else if (kind == ActKind::Hardtanh)
      for (const auto& mm : kHardtanhRanges) v.push_back({kind, mm.first, mm.second});
    else if (kind == ActKind::Elu)
      for (float al : {1.0f, 0.3f, 2.0f, 0.0f}) v.push_back({kind, al, 0});
    else
      v.push_back({kind, 0, 0});
  }
  return v;
}

struct Special {
  ActKind kind;
  float alpha, beta, x;
  float torch_vec, torch_scalar;  // PyTorch's vectorised and scalar code paths
};

// F.*(x) of PyTorch 1.13 (CPU, float32) at special inputs, from both of its
// code paths (a tensor's vector-width multiples, and the rest).
const Special kTorchSpecials[] = {
#include "act_specials.inc"
};

bool agrees_with_torch(const Special& s, float want, float torch_y) {
  const Bound b = bound_of(s.kind);
  if (std::isnan(want) || std::isnan(torch_y)) return std::isnan(want) && std::isnan(torch_y);
  if (want == 0 || torch_y == 0 || std::isinf(want) || std::isinf(torch_y))
    return test::same_bits(want, torch_y) ||
           (std::signbit(want) == std::signbit(torch_y) && std::fabs(double(want) - torch_y) <= 0x1p-120);
  const Activation a{s.kind, s.alpha, s.beta};
  // PyTorch's own erf (vectorised gelu) is good to ~1e-7 absolute only
  return std::fabs(double(want) - torch_y) <= 1e-6 * scale_of(b, a, double(s.x), double(torch_y)) + b.abs;
}

// The reference agrees with PyTorch at every special value (with one of its
// code paths where they differ): same NaN-ness, same zeros and infinities
// with their signs, finite values close.
void check_reference_against_torch() {
  int n = 0, paths_differ = 0;
  for (const Special& s : kTorchSpecials) {
    const float want = float(reference(Activation{s.kind, s.alpha, s.beta}, double(s.x)));
    CHECK(agrees_with_torch(s, want, s.torch_vec) || agrees_with_torch(s, want, s.torch_scalar),
          "reference %s(%g, %g) at x=%.9g: %.9g, PyTorch gives %.9g (vectorised) / %.9g (scalar)",
          act_kind_name(s.kind), double(s.alpha), double(s.beta), double(s.x), double(want), double(s.torch_vec),
          double(s.torch_scalar));
    if (!test::same_bits(s.torch_vec, s.torch_scalar) && !(std::isnan(s.torch_vec) && std::isnan(s.torch_scalar)))
      ++paths_differ;
    ++n;
  }
  std::printf("reference formulas agree with PyTorch 1.13 at %d special values (its two paths differ at %d)\n", n,
              paths_differ);
}

std::vector<float> special_inputs() {
  std::vector<float> v = {0.0f, -0.0f, HUGE_VALF, -HUGE_VALF, std::numeric_limits<float>::quiet_NaN(),
                          -std::numeric_limits<float>::quiet_NaN(), FLT_MAX, -FLT_MAX, FLT_MIN, -FLT_MIN,
                          bits_to_float(1), bits_to_float(0x80000001u), 1e-30f, -1e-30f, 1e30f, -1e30f,
                          1e13f, -1e13f, 6.0f, -3.0f, 3.0f, 1.0f, -1.0f, 4.0f, -4.0f, 5.65685415f, -5.65685415f};
  // exp's overflow (88.72) and underflow (-87.3 normal, -103.97 to zero),
  // expm1's and tanh's saturation (-17.33, 9.01), erf's (3.92 * sqrt 2)
  for (float t : {88.72f, 88.7228394f, 89.0f, 87.33f, 103.97f, 104.0f, 17.33f, 17.5f, 9.01f, 5.55f, 7.0f, 20.0f})
    for (float s : {1.0f, -1.0f}) {
      const float x = s * t;
      v.insert(v.end(), {x, std::nextafter(x, HUGE_VALF), std::nextafter(x, -HUGE_VALF)});
    }
  return v;
}

void check_kernel(const ActivationKernel& K, std::mt19937& rng) {
  const std::vector<Activation> acts = activations();
  Worst worst;
  size_t checked = 0;
  for (const Activation& a : acts) {
    // Every length through the vector tails, at an unaligned start.
    for (size_t n = 0; n <= 70; ++n) {
      const auto y = mixed_inputs(n, rng);
      const auto r = test::random_vector(n, rng, -2, 2);
      run_and_check(K, a, y, nullptr, 3, &worst, "no residual");
      run_and_check(K, a, y, &r, 1 + n % 5, &worst, "residual");
      checked += 2 * n;
    }
    // A long run.
    const auto y = mixed_inputs(5000, rng);
    const auto r = test::random_vector(5000, rng, -3, 3);
    run_and_check(K, a, y, nullptr, 0, &worst, "long, no residual");
    run_and_check(K, a, y, &r, 0, &worst, "long, residual");
    checked += 10000;
    // Float bit patterns every 2^16 + 1: every binade of both signs,
    // subnormals, infinities and NaNs.
    std::vector<float> sweep;
    for (uint64_t u = 0; u <= 0xffffffffu; u += 65537) sweep.push_back(bits_to_float(uint32_t(u)));
    run_and_check(K, a, sweep, nullptr, 0, &worst, "bit-pattern sweep");
    checked += sweep.size();
    // Special values: in y with a residual of -0 (x = y exactly, -0 kept),
    // and as the residual added to -0.
    const auto sp = special_inputs();
    const std::vector<float> neg_zero(sp.size(), -0.0f);
    run_and_check(K, a, sp, nullptr, 2, &worst, "special values");
    run_and_check(K, a, sp, &neg_zero, 2, &worst, "special values + residual -0");
    run_and_check(K, a, neg_zero, &sp, 2, &worst, "-0 + special residual");
    checked += 3 * sp.size();
  }
  std::printf("kernel %s (%zu values) worst error in ulps (2^-23 x scale) per activation:", K.name, checked);
  for (int k = 0; k <= int(ActKind::GeluTanh); ++k)
    if (bound_of(ActKind(k)).ulps != 0) std::printf(" %s %.2f", act_kind_name(ActKind(k)), worst.err_ulps[k]);
  std::printf("\n");
}

}  // namespace

int main() {
  check_reference_against_torch();
  std::mt19937 rng(2718);
  const Isa order[] = {Isa::Scalar, Isa::Neon, Isa::Avx2, Isa::Avx512};
  int tested = 0;
  for (Isa isa : order) {
    const IsaKernels* k = kernels_for(isa);
    if (k == nullptr || !cpu_supports(isa)) continue;
    CHECK(k->act != nullptr, "ISA %s has no activation kernel", isa_name(isa));
    if (k->act == nullptr) continue;
    check_kernel(*k->act, rng);
    ++tested;
  }
  CHECK(tested >= 1 && kernels_for(Isa::Scalar)->act == &kActScalar, "the scalar kernel must always run");
  return test::finish("test_activation_kernels");
}
