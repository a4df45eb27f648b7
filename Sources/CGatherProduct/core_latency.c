// How far apart two cores are, as the time a write on one takes to be seen on the other: two
// threads, each held to one of the first two CPUs this process may use, pass a counter back and
// forth through one cache line. On a virtual machine the host moves its virtual CPUs between
// physical cores; beside each other (one shared L3) a pass took 30–50 ns on the machine FedSim is
// measured on, on cores apart 160–180 ns, and work split between the two threads ran ×1.4 where
// it ran ×1.7 beside each other (docs/results.md). On a loaded machine a pass waits for the
// scheduler to run the other thread (milliseconds), so the rally stops at a time limit.
#define _GNU_SOURCE
#include "CGatherProduct.h"

#include <stdatomic.h>

#include "cpu_pair.h"

enum { STOP = -1, CHECK_EVERY = 64 };

typedef struct {
  _Alignas(128) _Atomic int64_t turn;  // odd: the answer's to give; even: the first side's; STOP
  _Alignas(128) int64_t passes;
  int cpu;
  int pinned;
} Rally;

// The second thread: answers each odd turn with the next even one, until STOP.
static void *answer(void *context) {
  Rally *r = context;
  r->pinned = pin(r->cpu);
  for (int64_t i = 0;; i++) {
    int64_t t;
    while ((t = atomic_load_explicit(&r->turn, memory_order_acquire)) != 2 * i + 1 && t != STOP) {}
    if (t == STOP) return NULL;
    atomic_store_explicit(&r->turn, 2 * i + 2, memory_order_release);
  }
}

// The first side: gives each odd turn and awaits the next even one, for the passes or until the
// deadline (checked every CHECK_EVERY passes); returns the passes made and then stops the answer.
static int64_t rally_from_first_side(Rally *r, int64_t deadline_ns) {
  int64_t i = 0;
  for (; i < r->passes; i++) {
    if (i % CHECK_EVERY == 0 && i > 0 && now_ns() > deadline_ns) break;
    atomic_store_explicit(&r->turn, 2 * i + 1, memory_order_release);
    while (atomic_load_explicit(&r->turn, memory_order_acquire) != 2 * i + 2) {}
  }
  atomic_store_explicit(&r->turn, STOP, memory_order_release);
  return i;
}

// The first side, on a thread of its own so that the caller's CPU mask is left alone.
typedef struct {
  Rally *rally;
  int cpu;
  int64_t limit_ns;
  double nanoseconds;
  int64_t made;
} Serve;

static void *serve(void *context) {
  Serve *s = context;
  if (!pin(s->cpu)) {
    atomic_store_explicit(&s->rally->turn, STOP, memory_order_release);
    return NULL;
  }
  int64_t t0 = now_ns();
  s->made = rally_from_first_side(s->rally, t0 + s->limit_ns);
  s->nanoseconds = (double)(now_ns() - t0) / (double)(2 * s->made);
  return NULL;
}

double fedsim_core_latency(int32_t passes, int64_t limit_ns, int64_t *made) {
  if (passes < 1 || limit_ns < 1) return -1;
  int cpus[2];
  if (!first_two_cpus(cpus)) return -1;
  static Rally rally;  // one probe at a time (the bench's); static for its alignment
  rally.turn = 0;
  rally.passes = passes;
  rally.cpu = cpus[1];
  rally.pinned = 0;
  Serve first = {&rally, cpus[0], limit_ns, -1, 0};
  pthread_t a, b;
  if (pthread_create(&b, NULL, answer, &rally) != 0) return -1;
  if (pthread_create(&a, NULL, serve, &first) == 0) {
    pthread_join(a, NULL);
  } else {
    atomic_store_explicit(&rally.turn, STOP, memory_order_release);
  }
  pthread_join(b, NULL);
  if (made) *made = first.made;
  return rally.pinned && first.nanoseconds >= 0 ? first.nanoseconds : -1;
}
