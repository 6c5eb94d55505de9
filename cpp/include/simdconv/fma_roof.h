// This machine's floating-point roof, for the benchmark's "% of roof" column:
// each thread runs 12 independent chains of vector FMAs (enough in flight to
// cover FMA latency x FMA ports on the cores we target), so the loop is bound
// by FMA throughput alone. Part of the library so that `simdconv bench` needs
// no compiler on the user's machine.
#pragma once
#include "simdconv/isa.h"

namespace simdconv {

// Flops (2 per lane per FMA) of one chain loop of `iters` iterations.
using FmaRoofFn = double (*)(long iters);

// The per-ISA loops (cpp/src/kernels/fma-roof-*.cpp, built with that ISA's
// flags); Scalar is a 128-bit GCC/Clang vector loop of separate multiplies and
// adds, what the scalar kernels compile to.
FmaRoofFn fma_roof_kernel(Isa isa);  // nullptr when this build has none for isa

// Best GFLOP/s over `repeats` runs of `threads` threads running isa's loop at
// the same time (total flops over the span from the first start to the last
// finish; noise only ever lowers a roof, so the best run is the roof).
// Throws std::invalid_argument when this CPU or build cannot run isa, or for
// threads outside [1, 1024] or repeats outside [1, 100].
double fma_roof_gflops(Isa isa, int threads, int repeats);

}  // namespace simdconv
