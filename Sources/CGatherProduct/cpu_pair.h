// What the two-CPU probes (core_latency.c, core_sharing.c) share: the first two CPUs this
// process may use, holding the calling thread to one of them, and a monotonic clock in ns.
#ifndef FEDSIM_CPU_PAIR_H
#define FEDSIM_CPU_PAIR_H

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>

// The first two CPUs in this process's mask into `cpus`: 1, or 0 with fewer than two.
static inline int first_two_cpus(int cpus[2]) {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 0;
  int found = 0;
  for (int c = 0; c < CPU_SETSIZE && found < 2; c++) {
    if (CPU_ISSET(c, &allowed)) cpus[found++] = c;
  }
  return found == 2;
}

// Holds the calling thread to `cpu`: 1, or 0 when the system refused.
static inline int pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

static inline int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

#endif
