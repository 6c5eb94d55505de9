// The thread pool that forward() splits its work over.
//
// Policy: one process-wide pool of (num_threads - 1) workers; the calling
// thread works too. Parallel regions from different threads (several async
// calls at once) run one after another, each with all threads, so the pool
// never puts more than num_threads busy threads on the cores. A region
// started from inside a worker runs inline.
#pragma once
#include <cstddef>
#include <functional>

namespace simdconv {

// Default: SIMDCONV_NUM_THREADS if set, else the number of hardware threads.
int get_num_threads();
// Throws std::invalid_argument for n < 1.
void set_num_threads(int n);

// Runs fn(i) for every i in [0, count) on up to get_num_threads() threads and
// returns when all are done. The first exception thrown by fn is rethrown here
// (the remaining tasks are skipped).
void parallel_for(size_t count, const std::function<void(size_t)>& fn);

}  // namespace simdconv
