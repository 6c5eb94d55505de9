// The thread pool that forward() splits its work over.
//
// Policy: one process-wide pool of (num_threads - 1) workers; the calling
// thread works too. Parallel regions from different threads (several async
// calls at once) run one after another, each with all threads, so the pool
// never puts more than num_threads busy threads on the cores. A region
// started from inside a worker runs inline.
#pragma once
#include <cstddef>

#include "simdconv/cpu_count.h"

namespace simdconv {

// Default: SIMDCONV_NUM_THREADS if set, else min(affinity mask, ceil(cgroup
// CPU quota), cores) (cpu_count.h), worked out once when the pool is first used.
int get_num_threads();
// Throws std::invalid_argument for n < 1.
void set_num_threads(int n);

// The current thread count, where it came from ("env", "setNumThreads", or
// default_threads_for's "cores", "affinity", "cgroup") and the limits seen.
struct ThreadsInfo {
  int threads = 1;
  const char* source = "cores";
  CpuLimits limits;
};
ThreadsInfo threads_info();

// A non-owning reference to a callable taking a task index. parallel_for
// borrows the caller's lambda for the duration of the call, so starting a
// parallel region never allocates (std::function would, for lambdas that
// capture more than its small buffer holds).
class TaskRef {
 public:
  template <class F>
  TaskRef(const F& f)  // NOLINT: implicit, so lambdas pass straight through
      : obj_(&f), call_([](const void* o, size_t i) { (*static_cast<const F*>(o))(i); }) {}
  void operator()(size_t i) const { call_(obj_, i); }

 private:
  const void* obj_;
  void (*call_)(const void*, size_t);
};

// Runs fn(i) for every i in [0, count) on up to get_num_threads() threads and
// returns when all are done. The first exception thrown by fn is rethrown here
// (the remaining tasks are skipped).
void parallel_for(size_t count, TaskRef fn);

}  // namespace simdconv
