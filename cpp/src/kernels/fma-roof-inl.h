// The FMA roof loop (fma_roof.h), written once for every ISA: `Ops` gives the
// vector type V, its lane count, and set1 / fma (a*b+c) / add / first lane.
// Included only by the per-ISA files, which are built with their ISA's flags.
#pragma once

namespace simdconv {

template <class Ops>
double fma_roof_loop(long iters) {
  using V = typename Ops::V;
  // Distinct start values: identical chains would be merged into one by the
  // compiler, and the loop would measure one FMA's latency, not the roof.
  // 12 chains cover latency (4-5 cycles) x FMA ports (2) on current cores.
  V a[12];
  for (int j = 0; j < 12; ++j) a[j] = Ops::set1(0.1f + 0.001f * float(j));
  const V b = Ops::set1(0.999999f), c = Ops::set1(1e-7f);
  for (long i = 0; i < iters; ++i) {
    a[0] = Ops::fma(a[0], b, c); a[1] = Ops::fma(a[1], b, c); a[2] = Ops::fma(a[2], b, c);
    a[3] = Ops::fma(a[3], b, c); a[4] = Ops::fma(a[4], b, c); a[5] = Ops::fma(a[5], b, c);
    a[6] = Ops::fma(a[6], b, c); a[7] = Ops::fma(a[7], b, c); a[8] = Ops::fma(a[8], b, c);
    a[9] = Ops::fma(a[9], b, c); a[10] = Ops::fma(a[10], b, c); a[11] = Ops::fma(a[11], b, c);
  }
  V s = a[0];
  for (int j = 1; j < 12; ++j) s = Ops::add(s, a[j]);
  volatile float sink = Ops::first(s);  // keeps the chains live
  (void)sink;
  return double(iters) * 12 * Ops::kLanes * 2;
}

}  // namespace simdconv
