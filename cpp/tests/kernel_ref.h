// Scalar references shared by the kernel-level tests (test_direct_kernels,
// test_winograd_kernels): the FMA chain a kernel of a given ISA must
// reproduce bit for bit, and guarded output buffers.
#pragma once
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "simdconv/isa.h"

namespace test {

// One step of a kernel's accumulation chain, acc + w*x: fused on the SIMD
// ISAs (FMA intrinsics), a rounded multiply then an add on scalar (its
// Vec::fma is two operations, as the scalar GEMM kernel).
inline float chain_step(simdconv::Isa isa, float acc, float w, float x) {
  if (isa != simdconv::Isa::Scalar) return std::fma(w, x, acc);
  volatile float prod = w * x;  // volatile: never contracted into an FMA
  return acc + prod;
}

// A buffer whose every element starts as a NaN with a recognisable payload:
// a kernel must overwrite exactly the elements it owns.
inline std::vector<float> sentinel_vector(size_t n) {
  return std::vector<float>(n, std::numeric_limits<float>::quiet_NaN());
}

inline bool is_sentinel(float v) { return std::isnan(v); }

inline bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace test
