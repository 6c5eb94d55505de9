// cpu_count.h: parsing /proc/self/cgroup, mountinfo, cpu.max and the v1 CFS
// files; the walk up the cgroup tree on a sample file tree; the default's
// min(affinity, ceil(quota), cores) and its source. Also cpu_info.h's rule
// table and sysfs cache sizes, and fma_roof.h's argument checks.
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <fstream>
#include <string>

#include "check.h"
#include "simdconv/cpu_count.h"
#include "simdconv/cpu_info.h"
#include "simdconv/fma_roof.h"

using namespace simdconv;
namespace fs = std::filesystem;

namespace {

// A Docker host with cgroup v1 (hybrid: v2 mounted at unified/ with no controllers).
const char* kV1Cgroup =
    "12:cpu,cpuacct:/docker/abc123\n"
    "11:memory:/docker/abc123\n"
    "1:name=systemd:/docker/abc123\n"
    "0::/docker/abc123\n";
const char* kV1Mountinfo =
    "31 23 0:28 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
    "32 31 0:29 /docker/abc123 /sys/fs/cgroup/cpu,cpuacct ro,nosuid master:12 - cgroup cgroup rw,cpu,cpuacct\n"
    "33 31 0:30 /docker/abc123 /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

// A systemd host with cgroup v2 only; a mount point with an escaped space.
const char* kV2Cgroup = "0::/system.slice/my app.service\n";
const char* kV2Mountinfo =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "30 22 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;  // binary: no "\r\n" on Windows, as in /proc
}

void parsing() {
  const auto g = parse_proc_cgroup(kV1Cgroup);
  CHECK(g.size() == 4, "%zu lines", g.size());
  CHECK(g[0].hierarchy == 12 && g[0].controllers.size() == 2 && g[0].controllers[0] == "cpu" &&
            g[0].path == "/docker/abc123", "v1 cpu line");
  CHECK(g[3].hierarchy == 0 && g[3].controllers.empty() && g[3].path == "/docker/abc123", "v2 line");
  CHECK(parse_proc_cgroup("0::/a:b\n")[0].path == "/a:b", "a path with ':' stays whole");
  CHECK(parse_proc_cgroup("garbage\nx:y\n").empty(), "malformed lines are skipped");

  const auto m = parse_mountinfo(kV1Mountinfo);
  CHECK(m.size() == 4, "%zu mounts", m.size());
  CHECK(m[1].root == "/docker/abc123" && m[1].mount_point == "/sys/fs/cgroup/cpu,cpuacct" &&
            m[1].fstype == "cgroup" && m[1].super_options.size() == 3, "v1 cpu mount (optional field master:12)");
  CHECK(m[3].fstype == "cgroup2", "v2 mount");
  CHECK(parse_mountinfo("1 2 0:1 / /a\\040b rw - ext4 x rw\n")[0].mount_point == "/a b", "octal escape");
  CHECK(parse_mountinfo("1 2 0:1 / /a rw\n").empty(), "a line without ' - ' is skipped");

  const auto d1 = cgroup_cpu_dirs(kV1Cgroup, kV1Mountinfo);
  CHECK(d1.size() == 2, "%zu dirs", d1.size());
  // the container sees its own cgroup as the mount's root
  CHECK(d1[0].version == 1 && d1[0].dir == "/sys/fs/cgroup/cpu,cpuacct", "v1 dir %s", d1[0].dir.c_str());
  CHECK(d1[1].version == 2 && d1[1].dir == "/sys/fs/cgroup/unified/docker/abc123", "v2 dir %s", d1[1].dir.c_str());
  const auto d2 = cgroup_cpu_dirs(kV2Cgroup, kV2Mountinfo);
  CHECK(d2.size() == 1 && d2[0].dir == "/sys/fs/cgroup/system.slice/my app.service" &&
            d2[0].mount_point == "/sys/fs/cgroup", "v2-only dir");
  CHECK(cgroup_cpu_dirs("3:memory:/x\n", kV1Mountinfo).empty(), "no cpu controller, no v2 line: nothing");

  CHECK(parse_cpu_max("max 100000\n") == 0, "no limit");
  CHECK(parse_cpu_max("150000 100000\n") == 1.5, "1.5 CPUs");
  CHECK(parse_cpu_max("50000") == 0.5, "period defaults to 100000");
  CHECK(parse_cpu_max("abc 100000") == -1 && parse_cpu_max("") == -1 && parse_cpu_max("1 0") == -1, "malformed");
  CHECK(parse_cfs_quota("-1\n", "100000\n") == 0, "v1 no limit");
  CHECK(parse_cfs_quota("200000\n", "100000\n") == 2, "v1 2 CPUs");
  CHECK(parse_cfs_quota("x", "100000") == -1 && parse_cfs_quota("100000", "0") == -1, "v1 malformed");

  CHECK(threads_for_quota(0) == 0 && threads_for_quota(0.3) == 1 && threads_for_quota(1.5) == 2 &&
            threads_for_quota(2) == 2 && threads_for_quota(2.0000000001) == 2, "ceil of the quota");
}

void defaults() {
  CpuLimits l;
  l.cores = 64;
  DefaultThreads d = default_threads_for(l);
  CHECK(d.threads == 64 && std::strcmp(d.source, "cores") == 0, "no limits: %d %s", d.threads, d.source);
  l.affinity = 64;
  d = default_threads_for(l);
  CHECK(d.threads == 64 && std::strcmp(d.source, "cores") == 0, "full mask is not a limit: %s", d.source);
  l.affinity = 4;
  d = default_threads_for(l);
  CHECK(d.threads == 4 && std::strcmp(d.source, "affinity") == 0, "taskset: %d %s", d.threads, d.source);
  l.cgroup_cpus = 1.5;
  d = default_threads_for(l);
  CHECK(d.threads == 2 && std::strcmp(d.source, "cgroup") == 0, "quota: %d %s", d.threads, d.source);
  l.cgroup_cpus = 8;
  d = default_threads_for(l);
  CHECK(d.threads == 4 && std::strcmp(d.source, "affinity") == 0, "quota above the mask: %d %s", d.threads, d.source);
  CpuLimits none;
  CHECK(default_threads_for(none).threads == 1, "at least 1");
}

// read_cpu_limits on a sample tree: a v1 quota on the parent of the
// process's cgroup limits it, and the tightest of v1 and v2 wins.
void file_tree() {
  const fs::path root = fs::temp_directory_path() / ("simdconv-cpu-count-" + std::to_string(std::random_device{}()));
  fs::remove_all(root);
  write(root / "proc/self/cgroup", "2:cpu:/batch/job7\n0::/batch/job7\n");
  write(root / "proc/self/mountinfo",
        "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
  write(root / "sys/fs/cgroup/cpu/cpu.cfs_quota_us", "-1\n");
  write(root / "sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n");
  write(root / "sys/fs/cgroup/cpu/batch/cpu.cfs_quota_us", "300000\n");
  write(root / "sys/fs/cgroup/cpu/batch/cpu.cfs_period_us", "100000\n");
  write(root / "sys/fs/cgroup/cpu/batch/job7/cpu.cfs_quota_us", "-1\n");
  write(root / "sys/fs/cgroup/cpu/batch/job7/cpu.cfs_period_us", "100000\n");
  CpuLimits l = read_cpu_limits(root.string());
  CHECK(l.cgroup_cpus == 3 && l.cgroup_version == 1, "parent's v1 quota: %g (v%d)", l.cgroup_cpus, l.cgroup_version);
  write(root / "sys/fs/cgroup/unified/batch/job7/cpu.max", "250000 100000\n");
  l = read_cpu_limits(root.string());
  CHECK(l.cgroup_cpus == 2.5 && l.cgroup_version == 2, "tighter v2 quota: %g (v%d)", l.cgroup_cpus, l.cgroup_version);
  CHECK(l.cores >= 1, "cores %d", l.cores);
  fs::remove_all(root / "sys");
  l = read_cpu_limits(root.string());
  CHECK(l.cgroup_cpus == 0, "no quota files: no limit (%g)", l.cgroup_cpus);
  fs::remove_all(root);
  CHECK(read_cpu_limits(root.string()).cgroup_cpus == 0, "no /proc files: no limit");
}

void cpu_info_rules() {
  auto full = [](const char* v, int f, int m, bool avx512) { return std::string(fma512_verdict(v, f, m, avx512).full_width); };
  CHECK(full("AuthenticAMD", 0x19, 0x11, true) == "no", "Zen 4 Genoa");
  CHECK(full("AuthenticAMD", 0x1a, 0x02, true) == "yes", "Zen 5 Turin");
  CHECK(full("AuthenticAMD", 0x1a, 0x44, true) == "yes", "Zen 5 Granite Ridge");
  CHECK(full("AuthenticAMD", 0x1a, 0x24, true) == "unknown", "Zen 5 mobile");
  CHECK(full("GenuineIntel", 6, 0x8f, true) == "yes", "Sapphire Rapids");
  CHECK(full("GenuineIntel", 6, 0x7e, true) == "no", "Ice Lake client");
  CHECK(full("GenuineIntel", 6, 0x97, true) == "unknown", "Alder Lake");
  CHECK(full("GenuineIntel", 6, 0x8f, false) == "no", "no AVX-512");
  CHECK(parse_cache_size("32K\n") == 32 << 10 && parse_cache_size("32768K") == 32 << 20 &&
            parse_cache_size("2M") == 2 << 20 && parse_cache_size("512") == 512 && parse_cache_size("x") == 0 &&
            parse_cache_size("12Q") == 0, "sysfs cache sizes");
  const CpuInfo& c = cpu_info();
  CHECK(c.logical_cores >= 1 && !c.fma512_full_width.empty() && !c.fma512_rule.empty(), "cpu_info filled");
}

void roof_arguments() {
  CHECK(test::throws([] { fma_roof_gflops(Isa::Scalar, 0, 1); }), "threads 0");
  CHECK(test::throws([] { fma_roof_gflops(Isa::Scalar, 1, 0); }), "repeats 0");
  for (Isa isa : {Isa::Neon, Isa::Avx2, Isa::Avx512})
    if (!cpu_supports(isa)) CHECK(test::throws([&] { fma_roof_gflops(isa, 1, 1); }), "unsupported %s", isa_name(isa));
  CHECK(fma_roof_gflops(Isa::Scalar, 2, 1) > 0, "a roof is measured");
}

}  // namespace

int main() {
  parsing();
  defaults();
  file_tree();
  cpu_info_rules();
  roof_arguments();
  return test::failures() == 0 ? 0 : 1;
}
