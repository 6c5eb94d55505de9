// Module entry: the Layer class and a few process-wide functions. Context
// aware (no global JS state), so it loads in any number of worker_threads.
#include <napi.h>

#include "async_runner.h"
#include "convert.h"
#include "layer.h"
#include "simdconv/cpu_info.h"
#include "simdconv/fma_roof.h"
#include "simdconv/gemm_kernel.h"
#include "simdconv/isa.h"
#include "simdconv/reference_conv.h"
#include "simdconv/thread_pool.h"

namespace binding {
namespace {

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  simdconv::set_num_threads(int(integer(info[0], "numThreads", 1, 1024)));
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), simdconv::get_num_threads());
}

// { threads, source, affinity, cgroupCpus, cgroupVersion, cores }: the
// thread count and the limits its default was derived from (0 = unknown/none
// becomes null).
Napi::Value ThreadsInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const simdconv::ThreadsInfo t = simdconv::threads_info();
  const auto or_null = [&](double v) -> Napi::Value { return v > 0 ? Napi::Number::New(env, v) : env.Null(); };
  Napi::Object o = Napi::Object::New(env);
  o.Set("threads", Napi::Number::New(env, t.threads));
  o.Set("source", Napi::String::New(env, t.source));
  o.Set("affinity", or_null(t.limits.affinity));
  o.Set("cgroupCpus", or_null(t.limits.cgroup_cpus));
  o.Set("cgroupVersion", or_null(t.limits.cgroup_version));
  o.Set("cores", Napi::Number::New(env, t.limits.cores));
  return o;
}

// cpu_info.h as a plain object (unknown numbers are null, unknown strings "").
Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const simdconv::CpuInfo& c = simdconv::cpu_info();
  const auto num = [&](double v, double unknown) -> Napi::Value {
    return v == unknown ? env.Null() : Napi::Number::New(env, v);
  };
  Napi::Object caches = Napi::Object::New(env);
  caches.Set("l1d", num(double(c.l1d), 0));
  caches.Set("l2", num(double(c.l2), 0));
  caches.Set("l3", num(double(c.l3), 0));
  caches.Set("source", Napi::String::New(env, c.cache_source));
  Napi::Object fma = Napi::Object::New(env);
  fma.Set("fullWidth", Napi::String::New(env, c.fma512_full_width));
  fma.Set("rule", Napi::String::New(env, c.fma512_rule));
  Napi::Object o = Napi::Object::New(env);
  o.Set("arch", Napi::String::New(env, c.arch));
  o.Set("vendor", Napi::String::New(env, c.vendor));
  o.Set("brand", Napi::String::New(env, c.brand));
  o.Set("family", num(c.family, -1));
  o.Set("model", num(c.model, -1));
  o.Set("stepping", num(c.stepping, -1));
  o.Set("cachesBytes", caches);
  o.Set("logicalCores", Napi::Number::New(env, c.logical_cores));
  o.Set("fma512", fma);
  return o;
}

// (isa, threads, repeats) -> GFLOP/s of fma_roof.h's loop. Blocks the caller
// for repeats x a few milliseconds: for the benchmark CLI, not for servers.
Napi::Value FmaRoof(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "fmaRoof: isa must be a string");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  simdconv::Isa isa;
  if (!simdconv::parse_isa(name.c_str(), &isa))
    throw Napi::TypeError::New(env, "fmaRoof: unknown isa '" + name + "' (scalar, neon, avx2, avx512)");
  const int threads = int(integer(info[1], "threads", 1, 1024));
  const int repeats = int(integer(info[2], "repeats", 1, 100));
  return Napi::Number::New(env, simdconv::fma_roof_gflops(isa, threads, repeats));
}

Napi::Value ActiveIsa(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), simdconv::isa_name(simdconv::active_isa()));
}

// ISAs this CPU runs and this build has kernels for, lowest first.
Napi::Value SupportedIsas(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const simdconv::GemmKernel* kernels[8];
  const int n = simdconv::runnable_gemm_kernels(kernels, 8);
  Napi::Array out = Napi::Array::New(env, size_t(n));
  for (int i = 0; i < n; ++i)
    out.Set(uint32_t(i), Napi::String::New(env, simdconv::isa_name(kernels[i]->isa)));
  return out;
}

// (params, n, h, w) -> [outH, outW]; throws for a call PyTorch would refuse.
Napi::Value OutputSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const simdconv::LayerParams p = layer_params(info[0]);
  const simdconv::CallShape s = call_shape(info, 1);
  const auto o = guard(env, [&] { return simdconv::output_size(p, s); });
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, double(o.height)));
  out.Set(1u, Napi::Number::New(env, double(o.width)));
  return out;
}

// The oracle, for tests: (params, input, n, h, w, weight, bias | null, out).
Napi::Value ReferenceConv2d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const simdconv::LayerParams p = layer_params(info[0]);
  const FloatArray in = float_array(info[1], "input");
  const simdconv::CallShape s = call_shape(info, 2);
  const FloatArray w = float_array(info[5], "weight");
  const float* b = nullptr;
  if (!info[6].IsNull() && !info[6].IsUndefined()) {
    const FloatArray ba = float_array(info[6], "bias");
    require_length(env, ba, p.out_channels, "bias");
    b = ba.data;
  }
  const FloatArray out = float_array(info[7], "out");
  const auto o = guard(env, [&] { return simdconv::output_size(p, s); });
  require_length(env, in, s.batch * p.in_channels * s.height * s.width, "input");
  require_length(env, w, p.weight_elements(), "weight");
  require_length(env, out, s.batch * p.out_channels * o.height * o.width, "out");
  guard(env, [&] { simdconv::reference_conv2d(p, s, in.data, w.data, b, out.data); });
  return info[7];
}

template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&] { return F(info); });
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  init_env_jobs(env);
  exports.Set("Layer", Layer::Define(env));
  exports.Set("setNumThreads", Napi::Function::New(env, Guarded<SetNumThreads>, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("threadsInfo", Napi::Function::New(env, ThreadsInfo, "threadsInfo"));
  exports.Set("cpuInfo", Napi::Function::New(env, CpuInfo, "cpuInfo"));
  exports.Set("fmaRoof", Napi::Function::New(env, Guarded<FmaRoof>, "fmaRoof"));
  exports.Set("activeIsa", Napi::Function::New(env, ActiveIsa, "activeIsa"));
  exports.Set("supportedIsas", Napi::Function::New(env, SupportedIsas, "supportedIsas"));
  exports.Set("outputSize", Napi::Function::New(env, Guarded<OutputSize>, "outputSize"));
  exports.Set("referenceConv2d", Napi::Function::New(env, Guarded<ReferenceConv2d>, "referenceConv2d"));
  return exports;
}

}  // namespace binding

static Napi::Object InitSimdconv(Napi::Env env, Napi::Object exports) {
  return binding::Init(env, exports);
}

NODE_API_MODULE(simdconv, InitSimdconv)
