#include "simdconv/cpu_count.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#elif defined(__linux__)
#include <sched.h>
#endif

namespace simdconv {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) { out.push_back(cur); cur.clear(); } else cur += c;
  }
  out.push_back(cur);
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  for (std::string& line : text_lines(text))
    if (!line.empty()) out.push_back(std::move(line));
  return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo (octal).
std::string unescape_octal(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' &&
        s[i + 3] <= '7') {
      out += char((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Strictly a decimal integer (optional leading '-'), surrounding whitespace allowed.
bool parse_long(const std::string& text, long long* out) {
  const size_t b = text.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return false;
  const size_t e = text.find_last_not_of(" \t\r\n");
  const std::string t = text.substr(b, e - b + 1);
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(t.c_str(), &end, 10);
  if (end == t.c_str() || *end != '\0' || errno == ERANGE) return false;
  *out = v;
  return true;
}

// The process's directory in a hierarchy mounted at `m` for cgroup `path`.
std::string cgroup_dir(const MountInfoLine& m, const std::string& path) {
  std::string rel = path;
  if (m.root != "/") {
    if (path.compare(0, m.root.size(), m.root) == 0 &&
        (path.size() == m.root.size() || path[m.root.size()] == '/'))
      rel = path.substr(m.root.size());
    else
      rel = "";  // not under this mount's root: the container's own cgroup is the mount itself
  }
  if (rel == "/") rel = "";
  return m.mount_point + rel;
}


// The quota of one cgroup directory in CPUs: 0 none, -1 unreadable.
double dir_quota(const CgroupCpuDir& d, const std::string& dir) {
  std::string a, b;
  if (d.version == 2) return read_small_file(dir + "/cpu.max", &a) ? parse_cpu_max(a) : -1;
  if (!read_small_file(dir + "/cpu.cfs_quota_us", &a) || !read_small_file(dir + "/cpu.cfs_period_us", &b)) return -1;
  return parse_cfs_quota(a, b);
}

int affinity_cpus() {
#if defined(_WIN32)
  DWORD_PTR process = 0, system = 0;
  if (!GetProcessAffinityMask(GetCurrentProcess(), &process, &system)) return 0;
  int n = 0;
  for (; process; process &= process - 1) ++n;  // the mask covers the process's processor group
  return n;
#elif defined(__linux__)
  // The kernel's mask can be wider than cpu_set_t's 1024 bits: grow until it fits.
  for (int cpus = 1024; cpus <= (1 << 20); cpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(cpus);
    if (!set) return 0;
    const size_t size = CPU_ALLOC_SIZE(cpus);
    CPU_ZERO_S(size, set);
    if (sched_getaffinity(0, size, set) == 0) {
      const int n = CPU_COUNT_S(size, set);
      CPU_FREE(set);
      return n;
    }
    CPU_FREE(set);
    if (errno != EINVAL) return 0;
  }
  return 0;
#else
  return 0;  // macOS has no affinity masks
#endif
}

}  // namespace

bool read_small_file(const std::string& path, std::string* out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  out->clear();
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out->append(buf, n);
  const bool ok = std::ferror(f) == 0;
  std::fclose(f);
  return ok;
}

std::vector<std::string> text_lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::vector<ProcCgroupLine> parse_proc_cgroup(const std::string& text) {
  std::vector<ProcCgroupLine> out;
  for (const std::string& line : lines_of(text)) {
    const size_t a = line.find(':');
    const size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    long long id = 0;
    if (!parse_long(line.substr(0, a), &id)) continue;
    ProcCgroupLine l;
    l.hierarchy = int(id);
    const std::string controllers = line.substr(a + 1, b - a - 1);
    if (!controllers.empty()) l.controllers = split(controllers, ',');
    l.path = line.substr(b + 1);  // a path may itself contain ':'
    out.push_back(l);
  }
  return out;
}

std::vector<MountInfoLine> parse_mountinfo(const std::string& text) {
  std::vector<MountInfoLine> out;
  for (const std::string& line : lines_of(text)) {
    std::vector<std::string> f;
    for (const std::string& w : split(line, ' '))
      if (!w.empty()) f.push_back(w);
    // the optional fields end at a lone "-"; FSTYPE SOURCE SUPER_OPTIONS follow
    const auto dash = std::find(f.begin() + std::min<size_t>(6, f.size()), f.end(), "-");
    if (f.size() < 6 || dash == f.end() || f.end() - dash < 4) continue;
    MountInfoLine m;
    m.root = unescape_octal(f[3]);
    m.mount_point = unescape_octal(f[4]);
    m.fstype = *(dash + 1);
    m.super_options = split(*(dash + 3), ',');
    out.push_back(m);
  }
  return out;
}

std::vector<CgroupCpuDir> cgroup_cpu_dirs(const std::string& proc_self_cgroup, const std::string& mountinfo) {
  const auto groups = parse_proc_cgroup(proc_self_cgroup);
  const auto mounts = parse_mountinfo(mountinfo);
  std::vector<CgroupCpuDir> out;
  for (const ProcCgroupLine& g : groups) {
    const bool v2 = g.hierarchy == 0 && g.controllers.empty();
    if (!v2 && !has(g.controllers, "cpu")) continue;
    for (const MountInfoLine& m : mounts) {
      const bool match = v2 ? m.fstype == "cgroup2" : (m.fstype == "cgroup" && has(m.super_options, "cpu"));
      if (!match) continue;
      out.push_back({v2 ? 2 : 1, cgroup_dir(m, g.path), m.mount_point});
      break;
    }
  }
  return out;
}

double parse_cpu_max(const std::string& text) {
  const auto lines = lines_of(text);
  if (lines.size() != 1) return -1;
  std::vector<std::string> f;
  for (const std::string& w : split(lines[0], ' '))
    if (!w.empty()) f.push_back(w);
  if (f.empty() || f.size() > 2) return -1;
  long long period = 100000;  // the kernel's default when only the quota is written
  if (f.size() == 2 && (!parse_long(f[1], &period) || period <= 0)) return -1;
  if (f[0] == "max") return 0;
  long long quota = 0;
  if (!parse_long(f[0], &quota) || quota <= 0) return -1;
  return double(quota) / double(period);
}

double parse_cfs_quota(const std::string& quota_text, const std::string& period_text) {
  long long quota = 0, period = 0;
  if (!parse_long(quota_text, &quota) || !parse_long(period_text, &period) || period <= 0) return -1;
  if (quota < 0) return 0;  // -1: no limit
  if (quota == 0) return -1;
  return double(quota) / double(period);
}

int threads_for_quota(double cpus) {
  if (!(cpus > 0)) return 0;
  // a quota like 2.0000001 CPUs from rounding in the file is still 2
  const double n = std::ceil(cpus - 1e-9);
  return n > 1 << 20 ? 1 << 20 : std::max(1, int(n));
}

CpuLimits read_cpu_limits(const std::string& fs_root) {
  CpuLimits l;
  const unsigned hw = std::thread::hardware_concurrency();
  l.cores = hw == 0 ? 1 : int(std::min(hw, 1u << 20));
  l.affinity = fs_root.empty() ? affinity_cpus() : 0;
  std::string cgroup, mountinfo;
  if (!read_small_file(fs_root + "/proc/self/cgroup", &cgroup) || !read_small_file(fs_root + "/proc/self/mountinfo", &mountinfo))
    return l;
  for (CgroupCpuDir d : cgroup_cpu_dirs(cgroup, mountinfo)) {
    // A parent's quota limits every cgroup below it: take the tightest on the
    // way up to the hierarchy's mount point.
    std::string dir = d.dir;
    for (;;) {
      const double q = dir_quota(d, fs_root + dir);
      if (q > 0 && (l.cgroup_cpus == 0 || q < l.cgroup_cpus)) {
        l.cgroup_cpus = q;
        l.cgroup_version = d.version;
      }
      if (dir.size() <= d.mount_point.size()) break;
      const size_t slash = dir.find_last_of('/');
      if (slash == std::string::npos || slash < d.mount_point.size()) break;
      dir = dir.substr(0, std::max(slash, d.mount_point.size()));
    }
  }
  return l;
}

DefaultThreads default_threads_for(const CpuLimits& limits) {
  DefaultThreads d;
  d.threads = std::max(1, limits.cores);
  d.source = "cores";
  if (limits.affinity > 0 && limits.affinity < d.threads) {
    d.threads = limits.affinity;
    d.source = "affinity";
  }
  const int quota = threads_for_quota(limits.cgroup_cpus);
  if (quota > 0 && quota < d.threads) {
    d.threads = quota;
    d.source = "cgroup";
  }
  return d;
}

}  // namespace simdconv
