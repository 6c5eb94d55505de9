#include "simdconv/cpu_info.h"

#include <cstdlib>
#include <cstring>
#include <thread>

#include "simdconv/cpu_count.h"
#include "simdconv/isa.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define SIMDCONV_X86 1
#include "x86_cpuid.h"
#endif

namespace simdconv {
namespace {

bool read_text(const std::string& path, std::string* out) {
  if (!read_small_file(path, out)) return false;
  while (!out->empty() && (out->back() == '\n' || out->back() == ' ')) out->pop_back();
  return true;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Linux sysfs: /sys/devices/system/cpu/cpu0/cache/index<i>/{level,type,size}.
bool caches_from_sysfs(CpuInfo* c) {
  bool any = false;
  for (int i = 0; i < 16; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    std::string level, type, size;
    if (!read_text(dir + "level", &level) || !read_text(dir + "type", &type) || !read_text(dir + "size", &size))
      continue;
    const long long bytes = parse_cache_size(size);
    if (bytes <= 0 || type == "Instruction") continue;
    if (level == "1") c->l1d = bytes;
    if (level == "2") c->l2 = bytes;
    if (level == "3") c->l3 = bytes;
    any = true;
  }
  if (any) c->cache_source = "sysfs";
  return any;
}

#if defined(SIMDCONV_X86)
// cpuid(leaf, subleaf); false when the CPU does not have that leaf.
bool cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
  return __get_cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3]) != 0;
}

// Intel's leaf 4 and AMD's 0x8000001D share one layout: one subleaf per cache.
bool caches_from_cpuid(unsigned leaf, CpuInfo* c) {
  bool any = false;
  for (unsigned sub = 0; sub < 16; ++sub) {
    unsigned r[4];
    if (!cpuid(leaf, sub, r)) return false;
    const unsigned type = r[0] & 0x1f;  // 0 none (end), 1 data, 2 instruction, 3 unified
    if (type == 0) break;
    if (type == 2) continue;
    const unsigned level = (r[0] >> 5) & 0x7;
    const long long ways = ((r[1] >> 22) & 0x3ff) + 1, partitions = ((r[1] >> 12) & 0x3ff) + 1,
                    line = (r[1] & 0xfff) + 1, sets = (long long)r[2] + 1;
    const long long bytes = ways * partitions * line * sets;
    if (level == 1) c->l1d = bytes;
    if (level == 2) c->l2 = bytes;
    if (level == 3) c->l3 = bytes;
    any = true;
  }
  return any;
}

void detect_x86(CpuInfo* c) {
  c->arch = "x86_64";
  unsigned r[4];
  if (!cpuid(0, 0, r)) return;
  char vendor[13] = {0};
  std::memcpy(vendor, &r[1], 4);  // EBX, EDX, ECX spell the vendor
  std::memcpy(vendor + 4, &r[3], 4);
  std::memcpy(vendor + 8, &r[2], 4);
  c->vendor = vendor;
  if (cpuid(1, 0, r)) {
    const int base_family = int((r[0] >> 8) & 0xf), ext_family = int((r[0] >> 20) & 0xff);
    const int base_model = int((r[0] >> 4) & 0xf), ext_model = int((r[0] >> 16) & 0xf);
    c->stepping = int(r[0] & 0xf);
    c->family = base_family == 0xf ? base_family + ext_family : base_family;
    c->model = (base_family == 0x6 || base_family == 0xf) ? (ext_model << 4) + base_model : base_model;
  }
  char brand[49] = {0};
  bool have_brand = true;
  for (unsigned i = 0; i < 3 && have_brand; ++i) {
    have_brand = cpuid(0x80000002u + i, 0, r);
    if (have_brand) std::memcpy(brand + 16 * i, r, 16);
  }
  if (have_brand) c->brand = trim(brand);
  const bool amd = c->vendor == "AuthenticAMD" || c->vendor == "HygonGenuine";
  // AMD: leaf 0x8000001D exists when cpuid 0x80000001 ECX bit 22 (TopologyExtensions) is set.
  const bool topoext = amd && cpuid(0x80000001u, 0, r) && (r[2] & (1u << 22));
  if (c->vendor == "GenuineIntel" && caches_from_cpuid(4, c))
    c->cache_source = "cpuid leaf 4";
  else if (topoext && caches_from_cpuid(0x8000001Du, c))
    c->cache_source = "cpuid leaf 0x8000001D";
  else
    caches_from_sysfs(c);
}

#else
// arm64 Linux: /proc/cpuinfo's "CPU implementer" / "CPU part" / "CPU variant"
// / "CPU revision" (the MIDR_EL1 fields), caches from sysfs.
void detect_other(CpuInfo* c) {
#if defined(__aarch64__) || defined(_M_ARM64)
  c->arch = "arm64";
#else
  c->arch = "other";
#endif
  std::string cpuinfo;
  read_small_file("/proc/cpuinfo", &cpuinfo);
  for (const std::string& line : text_lines(cpuinfo)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) {
      if (!c->vendor.empty()) break;  // the first processor's block is enough
      continue;
    }
    const std::string key = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
    const long v = std::strtol(value.c_str(), nullptr, 0);
    if (key == "CPU implementer") {
      switch (v) {
        case 0x41: c->vendor = "ARM"; break;
        case 0x42: c->vendor = "Broadcom"; break;
        case 0x46: c->vendor = "Fujitsu"; break;
        case 0x48: c->vendor = "HiSilicon"; break;
        case 0x4e: c->vendor = "NVIDIA"; break;
        case 0x51: c->vendor = "Qualcomm"; break;
        case 0x61: c->vendor = "Apple"; break;
        case 0xc0: c->vendor = "Ampere"; break;
        default: c->vendor = "implementer " + value;
      }
    } else if (key == "CPU variant") {
      c->family = int(v);
    } else if (key == "CPU part") {
      c->model = int(v);
    } else if (key == "CPU revision") {
      c->stepping = int(v);
    } else if (key == "model name" && c->brand.empty()) {
      c->brand = value;
    }
  }
  caches_from_sysfs(c);
}
#endif

CpuInfo detect() {
  CpuInfo c;
#if defined(SIMDCONV_X86)
  detect_x86(&c);
#else
  detect_other(&c);
#endif
  const unsigned hw = std::thread::hardware_concurrency();
  c.logical_cores = hw == 0 ? 1 : int(hw);
  const Fma512Verdict v = fma512_verdict(c.vendor, c.family, c.model, cpu_supports(Isa::Avx512));
  c.fma512_full_width = v.full_width;
  c.fma512_rule = v.rule;
  return c;
}

}  // namespace

long long parse_cache_size(const std::string& text) {
  const std::string t = trim(text);
  char* end = nullptr;
  const long long n = std::strtoll(t.c_str(), &end, 10);
  if (end == t.c_str() || n <= 0) return 0;
  const std::string unit = trim(end);
  if (unit.empty()) return n;
  if (unit == "K" || unit == "KB" || unit == "KiB") return n << 10;
  if (unit == "M" || unit == "MB" || unit == "MiB") return n << 20;
  if (unit == "G" || unit == "GB" || unit == "GiB") return n << 30;
  return 0;
}

// Whether a 512-bit FMA runs at full width, i.e. AVX-512 doubles the FMA
// roof over AVX2. The rule table, and where each rule comes from:
// - AMD family 19h (Zen 3, Zen 4; only Zen 4 has AVX-512): "no". Zen 4
//   executes a 512-bit operation as two halves on its 256-bit FMA pipes
//   (AMD, Software Optimization Guide for AMD Family 19h Processors, #56665,
//   "AVX-512"); 512-bit code saves instructions, not FMA cycles.
// - AMD family 1Ah (Zen 5): "yes" for models 00h-1Fh (EPYC 9005 "Turin") and
//   40h-4Fh (Ryzen 9000 "Granite Ridge"), which have a full 512-bit datapath
//   (AMD, Software Optimization Guide for AMD Family 1Ah Processors, #58455;
//   AMD's Zen 5 presentation at Hot Chips 2024). The mobile Zen 5 parts use
//   256-bit halves like Zen 4; which other model numbers those are is not in
//   this table: "unknown".
// - Intel family 6 server cores with AVX-512: "yes", two 512-bit FMA units
//   (port 0+1 fused and port 5): Skylake-SP / Cascade Lake / Cooper Lake
//   (model 55h; some Xeon Bronze, Silver and Gold 5xxx SKUs have only the
//   fused unit, which the model number cannot tell), Ice Lake-SP (6Ah, 6Ch),
//   Sapphire Rapids (8Fh), Emerald Rapids (CFh), Granite Rapids (ADh, AEh),
//   Xeon Phi (57h, 85h) (Intel 64 and IA-32 Architectures Optimization
//   Reference Manual, the Skylake Server and Ice Lake chapters; model numbers
//   from Linux's arch/x86/include/asm/intel-family.h).
// - Intel family 6 client cores with AVX-512: "no", only the fused port 0+1
//   unit, the same FMA flops per cycle as AVX2 on both ports: Cannon Lake
//   (66h), Ice Lake client (7Dh, 7Eh), Tiger Lake (8Ch, 8Dh), Rocket Lake
//   (A7h) (same manual).
// - Everything else with AVX-512: "unknown". No AVX-512: "no".
Fma512Verdict fma512_verdict(const std::string& vendor, int family, int model, bool has_avx512f) {
  if (!has_avx512f) return {"no", "this CPU (or OS) does not run AVX-512"};
  if (vendor == "AuthenticAMD") {
    if (family == 0x19) return {"no", "AMD family 19h (Zen 4): 512-bit operations run as two 256-bit halves"};
    if (family == 0x1a && ((model >= 0x00 && model <= 0x1f) || (model >= 0x40 && model <= 0x4f)))
      return {"yes", "AMD family 1Ah (Zen 5) server/desktop models: full 512-bit datapath"};
    if (family == 0x1a)
      return {"unknown", "AMD family 1Ah (Zen 5) model outside the known server/desktop ranges (mobile Zen 5 uses 256-bit halves)"};
    return {"unknown", "AMD CPU family not in the table"};
  }
  if (vendor == "GenuineIntel" && family == 6) {
    switch (model) {
      case 0x55: return {"yes", "Intel Skylake-SP/Cascade Lake/Cooper Lake: two 512-bit FMA units (one on some Bronze/Silver/Gold 5xxx SKUs)"};
      case 0x6a: case 0x6c: return {"yes", "Intel Ice Lake-SP: two 512-bit FMA units"};
      case 0x8f: return {"yes", "Intel Sapphire Rapids: two 512-bit FMA units"};
      case 0xcf: return {"yes", "Intel Emerald Rapids: two 512-bit FMA units"};
      case 0xad: case 0xae: return {"yes", "Intel Granite Rapids: two 512-bit FMA units"};
      case 0x57: case 0x85: return {"yes", "Intel Xeon Phi: two 512-bit vector units"};
      case 0x66: case 0x7d: case 0x7e: case 0x8c: case 0x8d: case 0xa7:
        return {"no", "Intel client core (Cannon/Ice/Tiger/Rocket Lake): one 512-bit FMA unit made of the two 256-bit ones"};
      default: return {"unknown", "Intel model not in the table"};
    }
  }
  return {"unknown", "CPU vendor/family not in the table"};
}

const CpuInfo& cpu_info() {
  static const CpuInfo info = detect();
  return info;
}

}  // namespace simdconv
