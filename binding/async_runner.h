// forwardAsync's executor. Jobs run one at a time, FIFO, on one dedicated
// native thread that drives the compute pool (all cores), instead of on
// libuv's threadpool: a burst of convolutions never occupies the threads that
// the server's fs, dns and zlib work needs, and never oversubscribes the cores.
//
// Each environment (main thread or worker_thread) has one thread-safe function
// for delivering results and tracks its jobs; when it shuts down, its queued
// and running jobs are cancelled and it waits until none touches its
// thread-safe function any more.
#pragma once
#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace binding {

class EnvJobs;

// One call: `work` runs on the runner thread and must touch only memory the
// job owns or that no JS code can reach (JS may detach, resize or free any
// buffer it holds meanwhile); `commit` runs on the JS thread afterwards, only
// if `work` succeeded and the call was not cancelled, and returns the result
// (a thrown Napi::Error rejects). Then `callback(err, result)` runs on the JS
// thread: (null, result) or (error, undefined).
struct AsyncJob {
  enum class Failure { None, Aborted, Range, Other };
  std::function<void(const volatile int32_t* shutdown)> work;  // throws on failure
  std::function<Napi::Value(Napi::Env, const std::vector<Napi::ObjectReference>& kept)> commit;
  Napi::FunctionReference callback;
  std::vector<Napi::ObjectReference> keep_alive;  // JS objects `commit` reads
  // Set by the caller's cancel function (JS thread); read by `work` and at
  // delivery: a cancelled call reports AbortError even when its work ended.
  std::shared_ptr<std::atomic<int32_t>> cancel = std::make_shared<std::atomic<int32_t>>(0);
  Failure failure = Failure::None;
  std::string message;
  std::atomic<int32_t> shutdown{0};
  EnvJobs* env_jobs = nullptr;
};

// Per-environment state; created by init_env_jobs() in the module's Init.
void init_env_jobs(Napi::Env env);

// Queues a job (called on the JS thread). Ownership passes to the runner.
void submit(Napi::Env env, std::unique_ptr<AsyncJob> job);

}  // namespace binding
