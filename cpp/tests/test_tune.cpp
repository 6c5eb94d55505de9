// Measured tuning (tune.h, ConvLayer::tune) without timing assertions:
// every candidate algorithm applies to its layer and gives the reference's
// result, bitwise the same at 1, 2 and 3 threads; after tune() the layer's
// plan for that shape runs the reported choice (and gives bitwise what a
// layer built for that algorithm gives), other shapes keep the planner's
// choice, and a layer that replaces the weights keeps the tuned choices.
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "check.h"
#include "layers.h"
#include "simdconv/conv_layer.h"
#include "simdconv/reference_conv.h"
#include "simdconv/thread_pool.h"

using namespace simdconv;

namespace {

struct Case {
  const char* name;
  LayerParams p;
  CallShape s;
};

// Square kernels only here.
LayerParams layer(int64_t cin, int64_t cout, int64_t k, int64_t stride, int64_t pad, int64_t dil,
                  int64_t groups, PadMode mode = PadMode::Zeros) {
  return test::layer(cin, cout, k, k, stride, pad, dil, groups, mode);
}

// ConvTranspose2d: its candidates are the transposed GEMM and gather.
LayerParams transposed(int64_t cin, int64_t cout, int64_t k, int64_t stride, int64_t pad) {
  LayerParams p = layer(cin, cout, k, stride, pad, 1, 1);
  p.transposed = true;
  return p;
}

std::vector<Case> cases() {
  return {
      {"3x3 dense (Winograd applies)", layer(8, 12, 3, 1, 1, 1, 1), {2, 9, 11}},
      {"3x3 dilated reflect", layer(5, 7, 3, 1, 2, 2, 1, PadMode::Reflect), {1, 10, 9}},
      {"1x1", layer(16, 9, 1, 1, 0, 1, 1), {2, 5, 7}},
      {"5x5 stride 2 circular", layer(3, 6, 5, 2, 2, 1, 1, PadMode::Circular), {1, 13, 12}},
      {"grouped 3x3", layer(8, 12, 3, 1, 1, 1, 4), {1, 8, 10}},
      {"depthwise 3x3 stride 2", layer(6, 6, 3, 2, 1, 1, 6), {2, 11, 9}},
      {"depthwise x2 5x5", layer(4, 8, 5, 1, 2, 1, 4, PadMode::Replicate), {1, 9, 8}},
      // huge padding: the direct and Winograd bands would outgrow the output
      {"3x3 pad 100 (band fallback)", layer(2, 3, 3, 1, 100, 1, 1), {1, 2, 2}},
      {"transposed 4x4 stride 2", transposed(6, 4, 4, 2, 1), {2, 5, 6}},
  };
}

std::vector<float> reference(const Case& c, const std::vector<float>& x, const std::vector<float>& w,
                             const std::vector<float>& b) {
  const OutputSize o = output_size(c.p, c.s);
  std::vector<float> want(size_t(c.s.batch * c.p.out_channels * o.height * o.width));
  if (c.p.transposed)
    reference_conv_transpose2d(c.p, c.s, x.data(), w.data(), b.data(), want.data());
  else
    reference_conv2d(c.p, c.s, x.data(), w.data(), b.data(), want.data());
  return want;
}

std::vector<float> run(const ConvLayer& l, const Case& c, const std::vector<float>& x) {
  const OutputSize o = output_size(c.p, c.s);
  std::vector<float> out(size_t(c.s.batch * c.p.out_channels * o.height * o.width), std::nanf(""));
  l.forward(c.s, x.data(), out.data());
  return out;
}

void check_close(const char* what, const Case& c, Isa isa, const std::vector<float>& got,
                 const std::vector<float>& want) {
  const double k = double(c.p.reduction()) + 1;  // |x|, |w|, |b| <= 1
  size_t bad = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (!test::close(got[i], want[i], k, k)) ++bad;
  CHECK(bad == 0, "%s, %s on %s: %zu of %zu elements off the reference", what, c.name, isa_name(isa),
        bad, want.size());
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

bool contains(const std::vector<Algorithm>& v, Algorithm a) {
  return std::find(v.begin(), v.end(), a) != v.end();
}

void test_case(const Case& c, Isa isa, std::mt19937& rng) {
  const auto x = test::random_vector(size_t(c.s.batch * c.p.in_channels * c.s.height * c.s.width), rng);
  const auto w = test::random_vector(size_t(c.p.weight_elements()), rng);
  const auto b = test::random_vector(size_t(c.p.out_channels), rng);
  const auto want = reference(c, x, w, b);
  const std::vector<Algorithm> cands = candidate_algorithms(c.p, isa);
  CHECK(contains(cands, choose_algorithm(c.p, isa)), "%s on %s: the planner's choice is not a candidate",
        c.name, isa_name(isa));

  // Every candidate applies (a layer can be built for it) and is correct,
  // bitwise the same at every thread count.
  for (Algorithm a : cands) {
    const ConvLayer forced(c.p, w.data(), b.data(), isa, a);
    set_num_threads(1);
    const auto one = run(forced, c, x);
    check_close(algorithm_name(a), c, isa, one, want);
    for (int t : {2, 3}) {
      set_num_threads(t);
      CHECK(same_bits(run(forced, c, x), one), "%s, %s on %s: %d threads differ from 1", algorithm_name(a),
            c.name, isa_name(isa), t);
    }
  }

  // tune() over all candidates: the plan runs the reported choice.
  set_num_threads(2);
  ConvLayer tuned(c.p, w.data(), b.data(), isa);
  CHECK(test::throws([&] { tuned.tune(c.s); }), "%s: tune on a layer without raw weights must throw", c.name);
  tuned.make_tunable(w.data());
  const TuneResult r = tuned.tune(c.s, TuneOptions{2, {}});
  CHECK(r.threads == 2, "%s: tuned for %d threads, expected 2", c.name, r.threads);
  CHECK(!r.measured.empty() && r.measured.size() <= cands.size(), "%s: %zu candidates measured of %zu",
        c.name, r.measured.size(), cands.size());
  bool chosen_measured = false;
  for (const TuneResult::Measured& m : r.measured) {
    CHECK(m.median_ms >= 0, "%s: negative time for %s", c.name, algorithm_name(m.algorithm));
    chosen_measured = chosen_measured || m.algorithm == r.chosen;
  }
  CHECK(chosen_measured, "%s: the choice %s was not measured", c.name, algorithm_name(r.chosen));
  CHECK(tuned.plan(c.s).algorithm == r.chosen, "%s on %s: plan runs %s, tune chose %s", c.name,
        isa_name(isa), algorithm_name(tuned.plan(c.s).algorithm), algorithm_name(r.chosen));
  check_close("tuned", c, isa, run(tuned, c, x), want);
  // Another shape keeps the planner's choice.
  const CallShape other{c.s.batch + 1, c.s.height, c.s.width};
  const Plan untuned = plan_conv(c.p, tuned.algorithm(), other, 2, *kernels_for(isa));
  CHECK(tuned.plan(other).algorithm == untuned.algorithm, "%s: tuning one shape changed another's plan",
        c.name);
  // ... and so do other thread counts of the tuned shape.
  CHECK(tuned.plan(c.s, 1).layer_algorithm == tuned.algorithm(), "%s: tuning at 2 threads changed the "
        "plan at 1", c.name);

  // tune() restricted to each candidate: the tuned plan is that
  // algorithm's, bitwise what a layer built for it gives, at 1, 2, 3 threads.
  for (Algorithm a : cands) {
    const ConvLayer forced(c.p, w.data(), b.data(), isa, a);
    ConvLayer only(c.p, w.data(), b.data(), isa);
    only.make_tunable(w.data());
    for (int t : {1, 2, 3}) {
      set_num_threads(t);
      const TuneResult ra = only.tune(c.s, TuneOptions{1, {a}});
      CHECK(ra.measured.size() == 1 && ra.chosen == forced.plan(c.s).algorithm,
            "%s, only %s: chose %s", c.name, algorithm_name(a), algorithm_name(ra.chosen));
      CHECK(only.plan(c.s).algorithm == ra.chosen, "%s, only %s: the plan runs %s", c.name,
            algorithm_name(a), algorithm_name(only.plan(c.s).algorithm));
      CHECK(same_bits(run(only, c, x), run(forced, c, x)), "%s, only %s at %d threads: differs from a "
            "layer built for it", c.name, algorithm_name(a), t);
    }
  }

  // New weights keep the tuned choice (adopt_tuning) and give their own result.
  set_num_threads(2);
  const auto w2 = test::random_vector(w.size(), rng);
  ConvLayer replaced(c.p, w2.data(), b.data(), isa);
  replaced.make_tunable(w2.data());
  replaced.adopt_tuning(tuned);
  CHECK(replaced.plan(c.s).algorithm == r.chosen, "%s: new weights dropped the tuned choice", c.name);
  check_close("replaced weights", c, isa, run(replaced, c, x), reference(c, x, w2, b));
}

}  // namespace

int main() {
  std::mt19937 rng(1234);
  for (Isa isa : {Isa::Scalar, Isa::Neon, Isa::Avx2, Isa::Avx512}) {
    if (kernels_for(isa) == nullptr || !cpu_supports(isa)) continue;
    for (const Case& c : cases()) test_case(c, isa, rng);
  }
  // Names round-trip; a candidate that does not apply is refused.
  for (Algorithm a : {Algorithm::Gemm, Algorithm::Depthwise, Algorithm::GroupedDirect, Algorithm::Direct,
                      Algorithm::Winograd, Algorithm::TransposedDirect, Algorithm::TransposedGemm}) {
    Algorithm back = Algorithm::Gemm;
    CHECK(algorithm_from_name(algorithm_name(a), &back) && back == a, "name of %s", algorithm_name(a));
  }
  Algorithm unused;
  CHECK(!algorithm_from_name("fastest", &unused), "an unknown name parsed");
  const LayerParams dense = layer(4, 4, 1, 1, 0, 1, 1);
  const std::vector<float> w(size_t(dense.weight_elements()), 0.5f);
  ConvLayer l(dense, w.data(), nullptr);
  l.make_tunable(w.data());
  bool refused = false;
  try {
    l.tune({1, 3, 3}, TuneOptions{1, {Algorithm::Depthwise}});
  } catch (const std::invalid_argument& e) {
    refused = std::strstr(e.what(), "depthwise-direct") != nullptr;
  }
  CHECK(refused, "depthwise on a dense layer must be refused, naming the algorithm");
  CHECK(test::throws([&] { l.tune({1, 3, 3}, TuneOptions{0, {}}); }), "0 repetitions accepted");
  return test::finish("test_tune");
}
