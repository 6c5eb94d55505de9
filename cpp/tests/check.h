// Minimal test support for the cpp/ suite: CHECK records failures and main()
// returns non-zero, which CTest reports.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

namespace test {

inline int& failures() { static int f = 0; return f; }

#define CHECK(cond, ...)                                              \
  do {                                                                \
    if (!(cond)) {                                                    \
      ++::test::failures();                                           \
      std::fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                              \
      std::fprintf(stderr, "\n");                                     \
    }                                                                 \
  } while (0)

template <class F>
bool throws(F&& f) {
  try { f(); } catch (...) { return true; }
  return false;
}

inline std::vector<float> random_vector(size_t n, std::mt19937& rng, float lo = -1, float hi = 1) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// |got - want| <= tol where tol scales with the reduction length k and the size
// of the terms summed (float32 rounding of a length-k dot product).
inline bool close(float got, float want, double k, double magnitude) {
  const double tol = 4.0 * 1.1920929e-7 * (std::sqrt(k) + 2.0) * (magnitude + 1e-30) + 1e-30;
  return std::fabs(double(got) - double(want)) <= tol;
}

inline int finish(const char* name) {
  if (failures() == 0) std::printf("%s: all checks passed\n", name);
  else std::printf("%s: %d checks FAILED\n", name, failures());
  return failures() == 0 ? 0 : 1;
}

}  // namespace test
