#include "simdconv/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace simdconv {
namespace {

thread_local bool tl_in_region = false;  // nested regions run inline

// Workers (and the caller waiting for them) spin this long before sleeping on
// the condition variable: a forward() runs a few regions back to back, and a
// sleeping worker's wake-up (futex + reschedule, tens of microseconds on a VM)
// would otherwise be paid at every region.
constexpr auto kSpin = std::chrono::microseconds(200);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins until pred() holds or kSpin has passed; returns pred().
template <class Pred>
bool spin_until(Pred pred) {
  if (pred()) return true;
  const auto end = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      cpu_relax();
      if (pred()) return true;
    }
    if (std::chrono::steady_clock::now() >= end) return pred();
  }
}

// The thread count a process starts with (see thread_pool.h), worked out once.
ThreadsInfo initial_threads() {
  ThreadsInfo t;
  t.limits = read_cpu_limits();
  if (const char* env = std::getenv("SIMDCONV_NUM_THREADS")) {
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v >= 1 && v <= 1024) {
      t.threads = int(v);
      t.source = "env";
      return t;
    }
  }
  const DefaultThreads d = default_threads_for(t.limits);
  t.threads = std::min(d.threads, 1024);
  t.source = d.source;
  return t;
}

class Pool {
 public:
  static Pool& get() {
    // Leaked on purpose: worker threads must not be joined during static
    // destruction at process exit (an addon may be unloaded before that).
    static Pool* pool = new Pool();
    return *pool;
  }

  int threads() const { return threads_.load(); }
  void set_threads(int n) {
    threads_.store(n);
    set_by_call_.store(true);
  }
  ThreadsInfo info() const {
    ThreadsInfo t = initial_;
    t.threads = threads_.load();
    if (set_by_call_.load()) t.source = "setNumThreads";
    return t;
  }

  void run(size_t count, const TaskRef& fn) {
    const int want = threads_.load();
    if (count == 0) return;
    if (count == 1 || want <= 1 || tl_in_region) {
      const bool outer = tl_in_region;
      tl_in_region = true;
      try { for (size_t i = 0; i < count; ++i) fn(i); } catch (...) { tl_in_region = outer; throw; }
      tl_in_region = outer;
      return;
    }
    std::lock_guard<std::mutex> region(region_mutex_);  // one region at a time
    const int helpers = int(std::min<size_t>(size_t(want - 1), count - 1));
    ensure_workers(helpers);
    {
      std::lock_guard<std::mutex> lk(mu_);
      fn_ = &fn;
      count_ = count;
      next_.store(0);
      error_ = nullptr;
      failed_.store(false);
      active_helpers_ = helpers;
      pending_.store(helpers);
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    tl_in_region = true;
    work();
    tl_in_region = false;
    if (!spin_until([&] { return pending_.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock<std::mutex> lk(mu_);
      done_cv_.wait(lk, [&] { return pending_.load() == 0; });
    }
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  Pool() : initial_(initial_threads()), threads_(initial_.threads) {}

  void ensure_workers(int n) {
    while (int(workers_.size()) < n) {
      const int index = int(workers_.size());
      workers_.emplace_back([this, index] { worker_loop(index); });
      workers_.back().detach();
    }
  }

  void work() {
    for (;;) {
      if (failed_.load(std::memory_order_relaxed)) return;
      const size_t i = next_.fetch_add(1);
      if (i >= count_) return;
      try {
        (*fn_)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lk(mu_);
        if (!error_) error_ = std::current_exception();
        failed_.store(true);
      }
    }
  }

  void worker_loop(int index) {
    tl_in_region = true;
    uint64_t seen = 0;
    for (;;) {
      {
        const auto started = [&] { return generation_.load(std::memory_order_acquire) != seen; };
        std::unique_lock<std::mutex> lk(mu_, std::defer_lock);
        if (!spin_until(started)) {
          lk.lock();
          cv_.wait(lk, started);
        } else {
          lk.lock();  // the region's fields were written under mu_
        }
        seen = generation_.load();
        if (index >= active_helpers_) continue;  // not needed for this region
      }
      work();
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lk(mu_);
        done_cv_.notify_one();
      }
    }
  }

  const ThreadsInfo initial_;
  std::atomic<int> threads_;
  std::atomic<bool> set_by_call_{false};
  std::mutex region_mutex_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::vector<std::thread> workers_;
  const TaskRef* fn_ = nullptr;
  size_t count_ = 0;
  std::atomic<size_t> next_{0};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
  int active_helpers_ = 0;
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> generation_{0};
};

}  // namespace

int get_num_threads() { return Pool::get().threads(); }

ThreadsInfo threads_info() { return Pool::get().info(); }

void set_num_threads(int n) {
  if (n < 1 || n > 1024)
    throw std::invalid_argument("number of threads must be an integer in [1, 1024], got " +
                                std::to_string(n));
  Pool::get().set_threads(n);
}

void parallel_for(size_t count, TaskRef fn) {
  Pool::get().run(count, fn);
}

}  // namespace simdconv
