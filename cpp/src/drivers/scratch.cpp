// Scratch buffers and cost counters shared by the drivers (drivers.h).
#include <atomic>

#include "drivers.h"

namespace simdconv {

static_assert(kMaxSharedB <= kKeepScratchFloats, "the shared B buffer is kept across calls");

namespace {
std::atomic<int64_t> g_tasks{0}, g_scratch_peak{0};
std::atomic<int> g_last_run{0};

void note_scratch(int64_t floats) {
  int64_t peak = g_scratch_peak.load(std::memory_order_relaxed);
  while (floats > peak &&
         !g_scratch_peak.compare_exchange_weak(peak, floats, std::memory_order_relaxed)) {
  }
}

std::vector<float>& shared_scratch_buffer() {
  thread_local std::vector<float> buf;
  return buf;
}
}  // namespace

namespace drivers {

void count_tasks(int64_t n) { g_tasks.fetch_add(n, std::memory_order_relaxed); }
void note_last_run(Algorithm a) { g_last_run.store(int(a), std::memory_order_relaxed); }

// A B block or one padded band: small for the usual layers; one that grew
// past kKeepScratchFloats is released when its task ends (ScratchTrim).
std::vector<float>& scratch_buffer() {
  thread_local std::vector<float> buf;
  return buf;
}

float* scratch(int64_t elements) {
  note_scratch(elements);
  std::vector<float>& buf = scratch_buffer();
  if (buf.size() < size_t(elements)) buf.resize(size_t(elements));
  return buf.data();
}

// At most kMaxSharedB floats (<= kKeepScratchFloats, so it is kept), reused
// across calls.
float* shared_scratch(int64_t elements) {
  note_scratch(elements);
  std::vector<float>& buf = shared_scratch_buffer();
  if (buf.size() < size_t(elements)) buf.resize(size_t(elements));
  return buf.data();
}

}  // namespace drivers

CostCounters cost_counters() {
  CostCounters c;
  c.tasks = g_tasks.load(std::memory_order_relaxed);
  c.scratch_peak = g_scratch_peak.load(std::memory_order_relaxed);
  c.last_run = Algorithm(g_last_run.load(std::memory_order_relaxed));
  return c;
}

void reset_cost_counters() {
  g_tasks.store(0, std::memory_order_relaxed);
  g_scratch_peak.store(0, std::memory_order_relaxed);
}

int64_t retained_scratch_floats() {
  return int64_t(drivers::scratch_buffer().capacity() + shared_scratch_buffer().capacity());
}

}  // namespace simdconv
