// A description of the CPU, detected once: who made it, which model, its
// caches and whether its 512-bit FMAs run at full width. For diagnostics
// (`simdconv info`, backendInfo().cpu) and as the facts a tuning planner can
// key on; the ISA choice itself stays in isa.h.
#pragma once
#include <string>

namespace simdconv {

struct CpuInfo {
  std::string arch;    // "x86_64", "arm64" or "other"
  std::string vendor;  // cpuid vendor ("GenuineIntel", "AuthenticAMD"), or "" when unknown
  std::string brand;   // cpuid brand string, or /proc/cpuinfo's model name; "" when unknown
  int family = -1, model = -1, stepping = -1;  // display family/model (base + extended); -1 unknown
  // Data/unified cache sizes in bytes as one core sees them (L3: the slice
  // shared by that core's cluster); 0 when unknown.
  long long l1d = 0, l2 = 0, l3 = 0;
  std::string cache_source;  // "cpuid leaf 4", "cpuid leaf 0x8000001D", "sysfs" or ""
  int logical_cores = 0;     // std::thread::hardware_concurrency()
  // Whether one 512-bit FMA costs the same issue slot as a 256-bit one, i.e.
  // AVX-512 doubles the FMA roof over AVX2: "yes", "no", or "unknown"; and
  // the rule of cpu_info.cpp's table that decided it.
  std::string fma512_full_width;
  std::string fma512_rule;
};

const CpuInfo& cpu_info();

// The rule table, separate so that the cpp/ suite can check it on known CPUs.
// has_avx512f: the CPU (and OS) can run AVX-512F at all.
struct Fma512Verdict {
  const char* full_width;  // "yes" | "no" | "unknown"
  const char* rule;
};
Fma512Verdict fma512_verdict(const std::string& vendor, int family, int model, bool has_avx512f);

// Parses a sysfs cache size ("32K", "1024K", "32M", "512"); 0 when unreadable.
long long parse_cache_size(const std::string& text);

}  // namespace simdconv
