#include "async_runner.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <new>
#include <set>
#include <stdexcept>
#include <thread>

#include "simdconv/conv_layer.h"

namespace binding {
namespace {

void drop_without_napi(AsyncJob* job) {
  // The environment is gone or closing: its references must not be touched.
  for (auto& r : job->keep_alive) r.SuppressDestruct();
  job->callback.SuppressDestruct();
  delete job;
}

// Runs on the JS thread, or with env == nullptr while the env is closing.
void deliver(Napi::Env env, Napi::Function, EnvJobs* jobs, AsyncJob* job);

using Tsfn = Napi::TypedThreadSafeFunction<EnvJobs, AsyncJob, deliver>;

}  // namespace

class EnvJobs {
 public:
  explicit EnvJobs(Napi::Env env) : tsfn_(Tsfn::New(env, "simdconv.forwardAsync", 0, 1, this)) {
    tsfn_.Unref(env);  // referenced only while jobs are pending (see submitted/delivered)
  }

  // JS thread: keep the event loop alive while this env has jobs in flight.
  void submitted(Napi::Env env, AsyncJob* j) {
    if (in_flight_++ == 0) tsfn_.Ref(env);
    std::lock_guard<std::mutex> lk(mu_);
    jobs_.insert(j);
  }
  void delivered(Napi::Env env) {
    if (--in_flight_ == 0) tsfn_.Unref(env);
  }

  // Runner thread: hand the finished job to the JS thread, then forget it.
  // The job leaves the set last, so shutdown() cannot return while the runner
  // still uses this env's thread-safe function.
  void finish(AsyncJob* j) {
    if (tsfn_.NonBlockingCall(j) != napi_ok) drop_without_napi(j);
    std::lock_guard<std::mutex> lk(mu_);
    jobs_.erase(j);
    cv_.notify_all();
  }

  // Environment teardown (cleanup hook, JS thread): cancel and wait.
  void shutdown() {
    std::unique_lock<std::mutex> lk(mu_);
    for (AsyncJob* j : jobs_) j->shutdown.store(1);
    cv_.wait(lk, [&] { return jobs_.empty(); });
  }

 private:
  Tsfn tsfn_;
  int in_flight_ = 0;  // JS thread only
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<AsyncJob*> jobs_;
};

namespace {

void deliver(Napi::Env env, Napi::Function, EnvJobs* jobs, AsyncJob* job) {
  if (env == nullptr) {
    drop_without_napi(job);
    return;
  }
  std::unique_ptr<AsyncJob> owned(job);
  jobs->delivered(env);
  // A worker being terminated makes N-API calls fail: nothing may throw out
  // of here (that would be std::terminate), so such failures are dropped.
  try {
    Napi::HandleScope scope(env);
    Napi::Value arg = env.Null();
    if (owned->failure != AsyncJob::Failure::None) {
      Napi::Error err = owned->failure == AsyncJob::Failure::Range
                            ? Napi::RangeError::New(env, owned->message)
                            : Napi::Error::New(env, owned->message);
      if (owned->failure == AsyncJob::Failure::Aborted)
        err.Set("name", Napi::String::New(env, "AbortError"));
      arg = err.Value();
    }
    owned->callback.Call({arg});
  } catch (const Napi::Error&) {
  }
}

class Runner {
 public:
  static Runner& get() {
    static Runner* r = new Runner();  // never joined: lives as long as the process
    return *r;
  }
  void push(AsyncJob* j) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      queue_.push_back(j);
    }
    cv_.notify_one();
  }

 private:
  Runner() { std::thread([this] { loop(); }).detach(); }

  void loop() {
    for (;;) {
      AsyncJob* job;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return !queue_.empty(); });
        job = queue_.front();
        queue_.pop_front();
      }
      run(job);
      job->env_jobs->finish(job);
    }
  }

  static void run(AsyncJob* job) {
    try {
      if (job->shutdown.load()) throw simdconv::Cancelled();
      job->work(reinterpret_cast<const volatile int32_t*>(&job->shutdown));
    } catch (const simdconv::Cancelled&) {
      job->failure = AsyncJob::Failure::Aborted;
      job->message = "The operation was aborted";
    } catch (const std::length_error& e) {
      job->failure = AsyncJob::Failure::Range;
      job->message = e.what();
    } catch (const std::bad_alloc&) {
      job->failure = AsyncJob::Failure::Range;
      job->message = "simdconv: out of memory";
    } catch (const std::exception& e) {
      job->failure = AsyncJob::Failure::Other;
      job->message = e.what();
    } catch (...) {
      job->failure = AsyncJob::Failure::Other;
      job->message = "simdconv: unknown native error";
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<AsyncJob*> queue_;
};

void keep_env_jobs(Napi::Env, EnvJobs*) {}

}  // namespace

void init_env_jobs(Napi::Env env) {
  // The cleanup hook is added after the thread-safe function is created, so
  // it runs before the thread-safe function's own teardown (hooks run in
  // reverse order): jobs are cancelled and finished while it still works.
  auto* jobs = new EnvJobs(env);
  env.SetInstanceData<EnvJobs, keep_env_jobs>(jobs);  // freed by the hook below
  env.AddCleanupHook([jobs] {
    jobs->shutdown();
    delete jobs;
  });
}

void submit(Napi::Env env, std::unique_ptr<AsyncJob> job) {
  EnvJobs* jobs = env.GetInstanceData<EnvJobs>();
  if (jobs == nullptr) throw Napi::Error::New(env, "simdconv: addon not initialised in this environment");
  job->env_jobs = jobs;
  jobs->submitted(env, job.get());
  Runner::get().push(job.release());
}

}  // namespace binding
