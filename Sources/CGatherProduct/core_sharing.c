// Whether the first two CPUs this process may use are two whole cores or share one: a loop of
// independent FMAs (bound by the core's FMA ports, not by memory) runs on the first CPU alone,
// then on both at once, each thread held to its CPU. Two whole cores give about twice one's
// FMAs; two hyperthreads of one core, or two virtual CPUs the host runs on one, about once. On
// an Intel host whose guest saw two cores of one thread each, the reading was ×1.9–2.0 in some
// minutes and ×1.0 in others, and work split over the two threads ran ×1.4 slower each in the
// latter (docs/results.md).
#define _GNU_SOURCE
#include "CGatherProduct.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdatomic.h>

#include "cpu_pair.h"

enum { CHAINS = 12, STEPS = 4096 };

typedef struct {
  int cpu;
  int64_t duration_ns;
  _Atomic int *start;  // 0 until both threads may begin
  double rate;         // FMA steps a nanosecond; -1 when the thread could not be held to its CPU
  float sink;
} Runner;

// CHAINS independent chains of 8-lane FMAs, STEPS at a time, until the duration has passed.
__attribute__((target("avx2,fma"))) static void *run_fmas(void *context) {
  Runner *r = context;
  if (!pin(r->cpu)) {
    r->rate = -1;
    return NULL;
  }
  while (!atomic_load_explicit(r->start, memory_order_acquire)) {}
  __m256 acc[CHAINS];
  for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_ps(1e-3f * (float)i);
  const __m256 scale = _mm256_set1_ps(0.9999f), shift = _mm256_set1_ps(1e-6f);
  int64_t steps = 0, t0 = now_ns(), t = t0;
  while (t - t0 < r->duration_ns) {
    for (int s = 0; s < STEPS; s++) {
      for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], scale, shift);
    }
    steps += STEPS;
    t = now_ns();
  }
  float lanes[8];
  __m256 sum = acc[0];
  for (int i = 1; i < CHAINS; i++) sum = _mm256_add_ps(sum, acc[i]);
  _mm256_storeu_ps(lanes, sum);
  r->sink = lanes[0];
  r->rate = (double)steps / (double)(t - t0);
  return NULL;
}

// Runs `count` runners (one a CPU) at once; their summed rate, or -1.
static double together(int count, const int *cpus, int64_t duration_ns) {
  _Atomic int start = 0;
  Runner runners[2];
  pthread_t threads[2];
  int started = 0;
  for (; started < count; started++) {
    runners[started] = (Runner){cpus[started], duration_ns, &start, -1, 0};
    if (pthread_create(&threads[started], NULL, run_fmas, &runners[started]) != 0) break;
  }
  atomic_store_explicit(&start, 1, memory_order_release);
  double rate = started == count ? 0 : -1;
  for (int i = 0; i < started; i++) {
    pthread_join(threads[i], NULL);
    if (runners[i].rate < 0) rate = -1;
    if (rate >= 0) rate += runners[i].rate;
  }
  return rate;
}

double fedsim_core_sharing(int64_t duration_ns) {
  if (duration_ns < 1 || !fedsim_gather_product_available()) return -1;  // the loop needs AVX2 and FMA
  int cpus[2];
  if (!first_two_cpus(cpus)) return -1;
  double alone = together(1, cpus, duration_ns), both = together(2, cpus, duration_ns);
  return alone > 0 && both > 0 ? both / alone : -1;
}

#else
double fedsim_core_sharing(int64_t duration_ns) {
  (void)duration_ns;
  return -1;
}
#endif
