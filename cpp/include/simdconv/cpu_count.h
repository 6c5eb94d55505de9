// How many CPUs this process may use: the affinity mask, the cgroup CPU quota
// (containers, systemd slices, Kubernetes limits) and the number of cores.
// The thread pool's default is the smallest of the three, so a process pinned
// with taskset or limited to 2 CPUs on a 64-core host does not start 64
// threads that the scheduler then throttles.
//
// The parsing functions are pure (text in, values out) so that the cpp/ suite
// can check them on sample /proc and /sys contents.
#pragma once
#include <string>
#include <vector>

namespace simdconv {

// One line of /proc/self/cgroup: "hierarchy-ID:controller-list:path".
// cgroup v2 is the line with hierarchy 0 and an empty controller list.
struct ProcCgroupLine {
  int hierarchy = 0;
  std::vector<std::string> controllers;
  std::string path;
};
std::vector<ProcCgroupLine> parse_proc_cgroup(const std::string& text);

// One line of /proc/self/mountinfo (the fields a cgroup lookup needs):
// "ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS".
// Octal escapes (\040 for a space) in ROOT and MOUNT_POINT are decoded.
struct MountInfoLine {
  std::string root, mount_point, fstype;
  std::vector<std::string> super_options;
};
std::vector<MountInfoLine> parse_mountinfo(const std::string& text);

// A directory that holds this process's CPU quota files, and the mount point
// above which the walk to ancestor cgroups stops.
struct CgroupCpuDir {
  int version = 0;          // 1: cpu.cfs_quota_us + cpu.cfs_period_us, 2: cpu.max
  std::string dir;          // the process's own cgroup directory
  std::string mount_point;  // the hierarchy's mount point (an ancestor of dir, or dir itself)
};
// The process's cgroup directories for the v1 "cpu" controller and for the v2
// hierarchy, from /proc/self/cgroup and /proc/self/mountinfo. A cgroup path
// outside the mount's root (a container that sees only its own subtree) maps
// to the mount point itself.
std::vector<CgroupCpuDir> cgroup_cpu_dirs(const std::string& proc_self_cgroup,
                                          const std::string& mountinfo);

// cgroup v2 cpu.max ("max 100000" or "150000 100000"): the quota in CPUs
// (1.5 here), 0 for no limit, -1 when the text is not a cpu.max line.
double parse_cpu_max(const std::string& text);
// cgroup v1 cpu.cfs_quota_us and cpu.cfs_period_us: quota / period in CPUs,
// 0 for no limit (quota -1), -1 when unreadable.
double parse_cfs_quota(const std::string& quota_text, const std::string& period_text);

// The whole of a small text file (/proc, /sys); false when it cannot be read.
// stdio, not iostreams: the prebuilds link libstdc++ statically, and
// <fstream> alone would add half a megabyte of locale code to each binary.
bool read_small_file(const std::string& path, std::string* out);
// text split at '\n' (the pieces without it; a last empty piece is dropped).
std::vector<std::string> text_lines(const std::string& text);

// A quota of q CPUs lets ceil(q) threads make progress at once.
int threads_for_quota(double cpus);

struct CpuLimits {
  int affinity = 0;         // CPUs in the affinity mask; 0 when unknown
  double cgroup_cpus = 0;   // the tightest cgroup quota on the way to the root; 0 when none
  int cgroup_version = 0;   // 1 or 2 when cgroup_cpus > 0
  int cores = 0;            // std::thread::hardware_concurrency(), at least 1
};
// Reads the limits of the calling process. `fs_root` prefixes every file
// read (the cpp/ suite points it at a directory of sample files; "" is the
// real system).
CpuLimits read_cpu_limits(const std::string& fs_root = "");

// min(affinity, ceil(cgroup quota), cores), at least 1, and which of the
// three set it ("cores" when none is below the core count; on a tie the
// first of cores, affinity, cgroup).
struct DefaultThreads {
  int threads = 1;
  const char* source = "cores";
};
DefaultThreads default_threads_for(const CpuLimits& limits);

}  // namespace simdconv
