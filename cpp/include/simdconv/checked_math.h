// Overflow-checked size arithmetic. Every product or sum of sizes (shapes,
// paddings, dilations, strides, buffer lengths) goes through these, so a
// layer whose sizes do not fit in int64 is refused with std::length_error
// naming the operands, never computed with a wrapped size that a later guard
// would let through (e.g. a band of 2^62 x 2^32 floats wrapping to 0).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>

namespace simdconv {

// Throws std::length_error "what: a OP b overflows 64-bit integers".
[[noreturn]] inline void throw_overflow(const char* what, int64_t a, const char* op, int64_t b) {
  throw std::length_error(std::string(what) + ": " + std::to_string(a) + op + std::to_string(b) +
                          " overflows 64-bit integers");
}

// a * b, or std::length_error naming `what` and both operands.
inline int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw_overflow(what, a, " x ", b);
  return r;
}

// a + b, or std::length_error naming `what` and both operands.
inline int64_t checked_add(int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw_overflow(what, a, " + ", b);
  return r;
}

// The product of all factors, or std::length_error listing them ("what:
// a x b x c overflows 64-bit integers").
inline int64_t checked_product(std::initializer_list<int64_t> factors, const char* what) {
  int64_t r = 1;
  bool overflow = false;
  for (int64_t f : factors) overflow |= __builtin_mul_overflow(r, f, &r);
  if (!overflow) return r;
  std::string sizes;
  for (int64_t f : factors) sizes += (sizes.empty() ? "" : " x ") + std::to_string(f);
  throw std::length_error(std::string(what) + ": " + sizes + " overflows 64-bit integers");
}

// The product of all (non-negative) factors when it fits and is at most
// `limit`, else -1: for cost guards that pick another path instead of failing.
inline int64_t product_or_neg(std::initializer_list<int64_t> factors, int64_t limit) {
  int64_t r = 1;
  for (int64_t f : factors)
    if (__builtin_mul_overflow(r, f, &r) || r > limit) return -1;
  return r;
}

// The product of all (non-negative) factors, or INT64_MAX when it does not
// fit: for cost limits, where "more than anything" is the right answer.
inline int64_t saturating_product(std::initializer_list<int64_t> factors) {
  int64_t r = 1;
  for (int64_t f : factors)
    if (__builtin_mul_overflow(r, f, &r)) return INT64_MAX;
  return r;
}

}  // namespace simdconv
