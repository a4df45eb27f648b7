// How far apart two cores are, as the time a write on one takes to be seen on the other: two
// threads, each held to one of the first two CPUs this process may use, pass a counter back and
// forth through one cache line. On a virtual machine the host moves its virtual CPUs between
// physical cores; beside each other (one shared L3) a pass took 30–50 ns on the machine FedSim is
// measured on, on cores apart 160–180 ns, and work split between the two threads ran ×1.4 where
// it ran ×1.7 beside each other (docs/results.md).
#define _GNU_SOURCE
#include "CGatherProduct.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

typedef struct {
  _Alignas(128) _Atomic int64_t turn;
  _Alignas(128) int64_t passes;
  int cpu;
  int pinned;
} Rally;

static int pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

// The second thread: answers each odd turn with the next even one.
static void *answer(void *context) {
  Rally *r = context;
  r->pinned = pin(r->cpu);
  for (int64_t i = 0; i < r->passes; i++) {
    while (atomic_load_explicit(&r->turn, memory_order_acquire) != 2 * i + 1) {}
    atomic_store_explicit(&r->turn, 2 * i + 2, memory_order_release);
  }
  return NULL;
}

// The first side's passes: each odd turn given, the next even one awaited.
static void rally_from_first_side(Rally *r) {
  for (int64_t i = 0; i < r->passes; i++) {
    atomic_store_explicit(&r->turn, 2 * i + 1, memory_order_release);
    while (atomic_load_explicit(&r->turn, memory_order_acquire) != 2 * i + 2) {}
  }
}

// The first side, on a thread of its own so that the caller's CPU mask is left alone.
typedef struct {
  Rally *rally;
  int cpu;
  double nanoseconds;
} Serve;

static void *serve(void *context) {
  Serve *s = context;
  if (!pin(s->cpu)) return NULL;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  rally_from_first_side(s->rally);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double elapsed = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
  s->nanoseconds = elapsed / (double)(2 * s->rally->passes);
  return NULL;
}

double fedsim_core_latency(int32_t passes) {
  if (passes < 1) return -1;
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return -1;
  int cpus[2], found = 0;
  for (int c = 0; c < CPU_SETSIZE && found < 2; c++) {
    if (CPU_ISSET(c, &allowed)) cpus[found++] = c;
  }
  if (found < 2) return -1;
  static Rally rally;  // one probe at a time (the bench's); static for its alignment
  rally.turn = 0;
  rally.passes = passes;
  rally.cpu = cpus[1];
  rally.pinned = 0;
  Serve first = {&rally, cpus[0], -1};
  pthread_t a, b;
  if (pthread_create(&b, NULL, answer, &rally) != 0) return -1;
  int served = pthread_create(&a, NULL, serve, &first) == 0;
  if (served) pthread_join(a, NULL);
  // Not started, or not pinned: the answering thread still waits for its turns.
  if (first.nanoseconds < 0) rally_from_first_side(&rally);
  pthread_join(b, NULL);
  return rally.pinned && first.nanoseconds >= 0 ? first.nanoseconds : -1;
}
