/* The FMA roof of this machine, for bench/run.js's "% of roof" column.
 *
 * Built by bench/run.js at bench time when a C compiler exists
 * (`cc -O2 -pthread bench/fma_roof.c`; no -m flags: the x86 kernels use
 * target attributes and are only called when the CPU has the ISA), then run
 * as `fma_roof THREADS`. Each thread runs independent chains of vector FMAs
 * (enough in flight to cover latency x ports); prints one JSON line with the
 * best GFLOP/s over a few repeats (noise only ever lowers a roof) per ISA:
 *   {"threads":2,"avx2":...,"avx512":...,"generic":...}
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ITERS 10000000L /* per repeat and thread (~10-40 ms) */
#define REPEATS 8

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static volatile float sink;

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
__attribute__((target("avx2,fma"))) static double run_avx2(long iters) {
  /* Distinct start values: identical chains would be merged into one by the
   * compiler, and the loop would measure one FMA's latency, not the roof. */
  __m256 a0 = _mm256_set1_ps(0.100f), a1 = _mm256_set1_ps(0.101f), a2 = _mm256_set1_ps(0.102f),
         a3 = _mm256_set1_ps(0.103f), a4 = _mm256_set1_ps(0.104f), a5 = _mm256_set1_ps(0.105f),
         a6 = _mm256_set1_ps(0.106f), a7 = _mm256_set1_ps(0.107f), a8 = _mm256_set1_ps(0.108f),
         a9 = _mm256_set1_ps(0.109f), a10 = _mm256_set1_ps(0.110f), a11 = _mm256_set1_ps(0.111f);
  const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < iters; i++) {
    a0 = _mm256_fmadd_ps(a0, b, c); a1 = _mm256_fmadd_ps(a1, b, c); a2 = _mm256_fmadd_ps(a2, b, c);
    a3 = _mm256_fmadd_ps(a3, b, c); a4 = _mm256_fmadd_ps(a4, b, c); a5 = _mm256_fmadd_ps(a5, b, c);
    a6 = _mm256_fmadd_ps(a6, b, c); a7 = _mm256_fmadd_ps(a7, b, c); a8 = _mm256_fmadd_ps(a8, b, c);
    a9 = _mm256_fmadd_ps(a9, b, c); a10 = _mm256_fmadd_ps(a10, b, c); a11 = _mm256_fmadd_ps(a11, b, c);
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                           _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
  float out[8];
  _mm256_storeu_ps(out, s);
  sink = out[0];
  return (double)iters * 12 * 8 * 2;
}

__attribute__((target("avx512f"))) static double run_avx512(long iters) {
  __m512 a0 = _mm512_set1_ps(0.100f), a1 = _mm512_set1_ps(0.101f), a2 = _mm512_set1_ps(0.102f),
         a3 = _mm512_set1_ps(0.103f), a4 = _mm512_set1_ps(0.104f), a5 = _mm512_set1_ps(0.105f),
         a6 = _mm512_set1_ps(0.106f), a7 = _mm512_set1_ps(0.107f), a8 = _mm512_set1_ps(0.108f),
         a9 = _mm512_set1_ps(0.109f), a10 = _mm512_set1_ps(0.110f), a11 = _mm512_set1_ps(0.111f);
  const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < iters; i++) {
    a0 = _mm512_fmadd_ps(a0, b, c); a1 = _mm512_fmadd_ps(a1, b, c); a2 = _mm512_fmadd_ps(a2, b, c);
    a3 = _mm512_fmadd_ps(a3, b, c); a4 = _mm512_fmadd_ps(a4, b, c); a5 = _mm512_fmadd_ps(a5, b, c);
    a6 = _mm512_fmadd_ps(a6, b, c); a7 = _mm512_fmadd_ps(a7, b, c); a8 = _mm512_fmadd_ps(a8, b, c);
    a9 = _mm512_fmadd_ps(a9, b, c); a10 = _mm512_fmadd_ps(a10, b, c); a11 = _mm512_fmadd_ps(a11, b, c);
  }
  __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                           _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
  sink = _mm512_reduce_add_ps(s);
  return (double)iters * 12 * 16 * 2;
}
#endif

/* Portable: GCC/Clang vector extensions, 128-bit (NEON fmla on arm64 with the
 * default -ffp-contract=fast). */
typedef float v4 __attribute__((vector_size(16)));
static double run_generic(long iters) {
  v4 a[12], b = {0.999999f, 0.999999f, 0.999999f, 0.999999f}, c = {1e-7f, 1e-7f, 1e-7f, 1e-7f};
  for (int j = 0; j < 12; j++) a[j] = (v4){0.1f, 0.1f, 0.1f, 0.1f} + (float)j * 1e-3f;
  for (long i = 0; i < iters; i++) {
    a[0] = a[0] * b + c; a[1] = a[1] * b + c; a[2] = a[2] * b + c; a[3] = a[3] * b + c;
    a[4] = a[4] * b + c; a[5] = a[5] * b + c; a[6] = a[6] * b + c; a[7] = a[7] * b + c;
    a[8] = a[8] * b + c; a[9] = a[9] * b + c; a[10] = a[10] * b + c; a[11] = a[11] * b + c;
  }
  v4 s = a[0];
  for (int j = 1; j < 12; j++) s += a[j];
  sink = s[0];
  return (double)iters * 12 * 4 * 2;
}

typedef double (*kernel_fn)(long);
struct job {
  kernel_fn fn;
  pthread_barrier_t *barrier;
  double flops, t0, t1;
};

static void *worker(void *p) {
  struct job *j = p;
  pthread_barrier_wait(j->barrier);
  j->t0 = now();
  j->flops = j->fn(ITERS);
  j->t1 = now();
  return NULL;
}

/* GFLOP/s of `threads` threads running fn at the same time: total flops over
 * the span from the first start to the last finish. */
static double measure(kernel_fn fn, int threads) {
  double best = 0;
  fn(ITERS / 10); /* warm up clocks */
  for (int r = 0; r < REPEATS; r++) {
    pthread_t tid[256];
    struct job jobs[256];
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++) {
      jobs[i].fn = fn;
      jobs[i].barrier = &barrier;
      pthread_create(&tid[i], NULL, worker, &jobs[i]);
    }
    double flops = 0, t0 = 1e300, t1 = 0;
    for (int i = 0; i < threads; i++) {
      pthread_join(tid[i], NULL);
      flops += jobs[i].flops;
      if (jobs[i].t0 < t0) t0 = jobs[i].t0;
      if (jobs[i].t1 > t1) t1 = jobs[i].t1;
    }
    pthread_barrier_destroy(&barrier);
    double g = flops / (t1 - t0) / 1e9;
    if (g > best) best = g;
  }
  return best;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  if (threads < 1) threads = 1;
  if (threads > 256) threads = 256;
  printf("{\"threads\":%d", threads);
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    printf(",\"avx2\":%.2f", measure(run_avx2, threads));
  if (__builtin_cpu_supports("avx512f")) printf(",\"avx512\":%.2f", measure(run_avx512, threads));
#endif
  printf(",\"generic\":%.2f}\n", measure(run_generic, threads));
  return 0;
}
