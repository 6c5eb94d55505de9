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

  // Runner thread: forget the finished job and hand it to the JS thread, both
  // under the lock. Once handed over, the JS thread may free the job and a
  // new one may be allocated at the same address and tracked; erasing after
  // the hand-off would then untrack that new job, and shutdown() could return
  // while it still runs. Holding the lock across the hand-off also keeps
  // shutdown() from returning while this env's thread-safe function is used.
  void finish(AsyncJob* j) {
    std::lock_guard<std::mutex> lk(mu_);
    jobs_.erase(j);
    if (tsfn_.NonBlockingCall(j) != napi_ok) drop_without_napi(j);
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

// The callback's arguments: (null, result), or (error) when the call rejects.
std::vector<napi_value> outcome(Napi::Env env, AsyncJob& job) {
  // A cancelled call is an AbortError even if its work ended: the caller was
  // told so (the promise already rejected) and `out` must stay untouched.
  if (job.cancel->load()) job.failure = AsyncJob::Failure::Aborted, job.message = "The operation was aborted";
  try {
    if (job.failure == AsyncJob::Failure::None)
      return {env.Null(), job.commit ? job.commit(env, job.keep_alive) : env.Undefined()};
    Napi::Error err = job.failure == AsyncJob::Failure::Range ? Napi::RangeError::New(env, job.message)
                                                               : Napi::Error::New(env, job.message);
    if (job.failure == AsyncJob::Failure::Aborted) err.Set("name", Napi::String::New(env, "AbortError"));
    return {err.Value()};
  } catch (const Napi::Error& e) {
    return {e.Value()};
  } catch (const std::exception& e) {
    return {Napi::Error::New(env, e.what()).Value()};
  }
}

void deliver(Napi::Env env, Napi::Function, EnvJobs* jobs, AsyncJob* job) {
  if (env == nullptr) {
    drop_without_napi(job);
    return;
  }
  std::unique_ptr<AsyncJob> owned(job);
  // Nothing may throw out of here (that would be std::terminate). An error
  // from the callback (or from N-API) is re-raised as an uncaught exception:
  // Node-API would otherwise only print a deprecation warning for it, and
  // whoever waits on the callback would wait forever. While the env is being
  // torn down, napi_fatal_exception refuses to run JS, so it is dropped.
  try {
    jobs->delivered(env);  // Unref throws while a worker is being terminated
    Napi::HandleScope scope(env);
    owned->callback.Call(outcome(env, *owned));
  } catch (const Napi::Error& e) {
    try {
      napi_fatal_exception(env, e.Value());
    } catch (const Napi::Error&) {  // Value() failed: the env is going away
    }
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
      if (job->shutdown.load() || job->cancel->load()) throw simdconv::Cancelled();
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
