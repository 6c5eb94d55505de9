// Scalar references shared by the kernel-level tests (test_direct_kernels,
// test_winograd_kernels): the FMA chain a kernel of a given ISA must
// reproduce bit for bit, and guarded output buffers.
#pragma once
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "simdconv/isa.h"

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#define SIMDCONV_TEST_GUARD_PAGES 1
#endif

namespace test {

// w*x + acc rounded once to float, as an FMA instruction computes it. Not
// std::fma: MinGW-w64's runtime rounds twice (seen under Wine: one ulp off).
// The product of two floats is exact in double; TwoSum gives the sum's
// rounding error e exactly; rounding the double s to float is then correct
// unless s lies exactly halfway between two floats, where e's sign decides.
inline float fused_multiply_add(float w, float x, float acc) {
  const double p = double(w) * double(x), c = double(acc);
  const double s = p + c, bv = s - p, e = (p - (s - bv)) + (c - bv);
  const float f = float(s);
  if (e == 0.0 || double(f) == s) return f;
  const float g = std::nextafter(f, s > double(f) ? HUGE_VALF : -HUGE_VALF);  // the other neighbour of s
  if (double(f) + double(g) != 2.0 * s) return f;  // not a tie: e cannot cross the midpoint
  return (e > 0) == (g > f) ? g : f;
}

// One step of a kernel's accumulation chain, acc + w*x: fused on the SIMD
// ISAs (FMA intrinsics), a rounded multiply then an add on scalar (its
// Vec::fma is two operations, as the scalar GEMM kernel).
inline float chain_step(simdconv::Isa isa, float acc, float w, float x) {
  if (isa != simdconv::Isa::Scalar) return fused_multiply_add(w, x, acc);
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

// n floats that end exactly at an inaccessible page (at_end) or start
// exactly after one: a kernel that reads one float past either end of its
// input faults, even through a vector or masked load the sanitizers do not
// see. Where the OS has no mmap, an ordinary buffer (no fault, same values).
class GuardedFloats {
 public:
  GuardedFloats(const std::vector<float>& v, bool at_end) : n_(v.size()) {
#if defined(SIMDCONV_TEST_GUARD_PAGES)
    page_ = size_t(sysconf(_SC_PAGESIZE));
    const size_t body = (n_ * sizeof(float) + page_ - 1) / page_ * page_;
    len_ = body + 2 * page_;
    void* m = mmap(nullptr, len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) { base_ = nullptr; own_ = v; data_ = own_.data(); return; }
    base_ = static_cast<char*>(m);
    mprotect(base_, page_, PROT_NONE);
    mprotect(base_ + page_ + body, page_, PROT_NONE);
    data_ = reinterpret_cast<float*>(at_end ? base_ + page_ + body - n_ * sizeof(float) : base_ + page_);
    if (n_ > 0) std::memcpy(data_, v.data(), n_ * sizeof(float));
#else
    (void)at_end;
    own_ = v;
    data_ = own_.data();
#endif
  }
  ~GuardedFloats() {
#if defined(SIMDCONV_TEST_GUARD_PAGES)
    if (base_ != nullptr) munmap(base_, len_);
#endif
  }
  GuardedFloats(const GuardedFloats&) = delete;
  GuardedFloats& operator=(const GuardedFloats&) = delete;
  const float* data() const { return data_; }

 private:
  size_t n_, page_ = 0, len_ = 0;
  char* base_ = nullptr;
  std::vector<float> own_;
  float* data_ = nullptr;
};

}  // namespace test
