// cpuid for x86-64 with any compiler: GCC, Clang and MinGW have <cpuid.h>
// (__get_cpuid, __get_cpuid_count); MSVC has neither, so the same two
// functions are written here over its <intrin.h> intrinsics (__cpuid,
// __cpuidex), with GCC's contract: 0 when the CPU lacks the leaf, else 1.
#pragma once

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>

inline int __get_cpuid_count(unsigned leaf, unsigned subleaf, unsigned* a, unsigned* b, unsigned* c,
                             unsigned* d) {
  int r[4];
  __cpuid(r, static_cast<int>(leaf & 0x80000000u));  // highest leaf of this range
  if (static_cast<unsigned>(r[0]) < leaf) return 0;
  __cpuidex(r, static_cast<int>(leaf), static_cast<int>(subleaf));
  *a = static_cast<unsigned>(r[0]);
  *b = static_cast<unsigned>(r[1]);
  *c = static_cast<unsigned>(r[2]);
  *d = static_cast<unsigned>(r[3]);
  return 1;
}
inline int __get_cpuid(unsigned leaf, unsigned* a, unsigned* b, unsigned* c, unsigned* d) {
  return __get_cpuid_count(leaf, 0, a, b, c, d);
}
#else
#include <cpuid.h>
#endif
