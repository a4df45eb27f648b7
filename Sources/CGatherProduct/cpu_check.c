// The numeric targets' Swift code is built for x86-64-v3 (Package.swift): on a CPU without AVX2
// and FMA it would stop at its first such instruction with SIGILL. This runs before main and
// stops the process first, saying why and how to build for such a CPU. It also tells whose CPU
// this is, for the kernel choices measured per vendor.
#include "CGatherProduct.h"

#if defined(__x86_64__) && defined(FEDSIM_NEEDS_AVX2)
#include <unistd.h>

__attribute__((constructor)) static void fedsim_require_avx2(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return;
  static const char message[] =
      "fedsim: this build needs a CPU with AVX2 and FMA (x86-64-v3), which this one lacks; "
      "build for baseline x86-64 with `rm -rf .build && FEDSIM_PORTABLE=1 swift build`\n";
  ssize_t written = write(2, message, sizeof message - 1);
  (void)written;
  _exit(70);
}
#endif

#if defined(__x86_64__)
int fedsim_cpu_is_intel(void) {
  __builtin_cpu_init();
  return __builtin_cpu_is("intel");
}
#else
int fedsim_cpu_is_intel(void) { return 0; }
#endif
