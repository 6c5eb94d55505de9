// Opt-in measured tuning (as torch.backends.cudnn.benchmark): for one input
// shape and thread count, ConvLayer::tune() times every algorithm that can
// run the layer on its ISA and keeps the fastest plan for that shape. The
// planner alone (plan.h) never reads a clock, so without tuning every choice
// is reproducible; with it, which algorithm runs may differ between machines
// and runs, but every candidate gives the reference's result within the
// parity tolerance, and one plan gives bitwise the same result at every
// thread count.
#pragma once
#include <string>
#include <vector>

#include "simdconv/plan.h"

namespace simdconv {

// Every algorithm a layer built for `isa` can run: the GEMM always; the
// dense direct kernel (ungrouped) or the grouped one; the depthwise kernel
// with one input channel per group; Winograd where winograd_applies().
std::vector<Algorithm> candidate_algorithms(const LayerParams& p, Isa isa);

// The Algorithm whose algorithm_name() is `name`; false when none is.
bool algorithm_from_name(const std::string& name, Algorithm* out);

struct TuneOptions {
  int repetitions = 5;  // timed runs per candidate, after one warm-up run
  // Only these candidates (those that do not apply to the layer are
  // refused); empty: every candidate.
  std::vector<Algorithm> only;
};

struct TuneResult {
  struct Measured {
    Algorithm algorithm;
    double median_ms;
  };
  std::vector<Measured> measured;  // in candidate order
  Algorithm chosen = Algorithm::Gemm;
  int threads = 1;
};

// SIMDCONV_TUNE=1 in the environment (read once): layers keep their raw
// weights and the first call of each new input shape and thread count
// tunes (ConvLayer::plan).
bool tune_env_enabled();

}  // namespace simdconv
