// parallel_for: every index exactly once, exceptions reach the caller,
// nested regions and concurrent callers work.
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

#include "check.h"
#include "simdconv/thread_pool.h"

using namespace simdconv;

int main() {
  for (int threads : {1, 2, 4}) {
    set_num_threads(threads);
    CHECK(get_num_threads() == threads, "get_num_threads %d", get_num_threads());
    std::vector<std::atomic<int>> hits(1000);
    parallel_for(hits.size(), [&](size_t i) { hits[i].fetch_add(1); });
    for (size_t i = 0; i < hits.size(); ++i) CHECK(hits[i].load() == 1, "index %zu hit %d times", i, hits[i].load());

    bool caught = false;
    try {
      parallel_for(100, [&](size_t i) { if (i == 37) throw std::runtime_error("boom"); });
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "boom";
    }
    CHECK(caught, "exception from a task must reach the caller (threads=%d)", threads);

    std::atomic<int> nested{0};
    parallel_for(8, [&](size_t) { parallel_for(8, [&](size_t) { nested.fetch_add(1); }); });
    CHECK(nested.load() == 64, "nested regions ran %d tasks", nested.load());

    std::atomic<long> sum{0};
    std::vector<std::thread> callers;
    for (int c = 0; c < 4; ++c)
      callers.emplace_back([&] {
        for (int r = 0; r < 50; ++r) parallel_for(64, [&](size_t i) { sum.fetch_add(long(i)); });
      });
    for (auto& t : callers) t.join();
    CHECK(sum.load() == 4L * 50 * (63 * 64 / 2), "concurrent callers summed %ld", sum.load());
  }
  CHECK(test::throws([] { set_num_threads(0); }), "0 threads must be refused");
  return test::finish("test_thread_pool");
}
