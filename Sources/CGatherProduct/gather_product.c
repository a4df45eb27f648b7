// The AVX2/FMA kernels of FedSim's direct convolution (Sources/Tensors/Kernels/Kernels+DirectConvolution.swift).
// Six rows at a time: twelve accumulators of eight lanes in registers. Compiled for baseline
// x86-64 and dispatched at run time.
#include "CGatherProduct.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2,fma")))

int fedsim_gather_product_available(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#define START(r)                                                               \
  __m256 c##r##0 = accumulate ? _mm256_loadu_ps(out + 16 * r) : _mm256_setzero_ps(); \
  __m256 c##r##1 = accumulate ? _mm256_loadu_ps(out + 16 * r + 8) : _mm256_setzero_ps();

#define STORE(r)                                                               \
  _mm256_storeu_ps(out + 16 * r, c##r##0);                                     \
  _mm256_storeu_ps(out + 16 * r + 8, c##r##1);

// Channels along the lanes: one element of row r's input, broadcast, times 16 lanes of v.
#define GATHER(r)                                                              \
  x = _mm256_broadcast_ss(p##r + o);                                           \
  c##r##0 = _mm256_fmadd_ps(x, v0, c##r##0);                                   \
  c##r##1 = _mm256_fmadd_ps(x, v1, c##r##1);

// Positions along the lanes: 16 consecutive elements of row r's input times one weight.
#define WINDOW(r)                                                              \
  c##r##0 = _mm256_fmadd_ps(_mm256_loadu_ps(p##r + o), x, c##r##0);            \
  c##r##1 = _mm256_fmadd_ps(_mm256_loadu_ps(p##r + o + 8), x, c##r##1);

#define ROWS const float *p0, const float *p1, const float *p2, const float *p3, const float *p4, const float *p5

AVX2 static void gather_rows(ROWS, const int32_t *b, int32_t reduction, const float *v, float *out, int32_t accumulate) {
  START(0) START(1) START(2) START(3) START(4) START(5)
  for (int32_t j = 0; j < reduction; j++) {
    const int32_t o = b[j];
    const __m256 v0 = _mm256_loadu_ps(v + 16 * j), v1 = _mm256_loadu_ps(v + 16 * j + 8);
    __m256 x;
    GATHER(0) GATHER(1) GATHER(2) GATHER(3) GATHER(4) GATHER(5)
  }
  STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5)
}

AVX2 static void window_rows(ROWS, const int32_t *b, int32_t reduction, const float *w, float *out, int32_t accumulate) {
  START(0) START(1) START(2) START(3) START(4) START(5)
  for (int32_t j = 0; j < reduction; j++) {
    const int32_t o = b[j];
    const __m256 x = _mm256_broadcast_ss(w + j);
    WINDOW(0) WINDOW(1) WINDOW(2) WINDOW(3) WINDOW(4) WINDOW(5)
  }
  STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5)
}

typedef void (*six_rows)(ROWS, const int32_t *, int32_t, const float *, float *, int32_t);

/// Runs `kernel` over all rows, six at a time; the last 1 to 5 go through a scratch tile with
/// the missing rows repeating the last one's reads.
AVX2 static void all_rows(
    six_rows kernel, const float *in, const int32_t *a, int32_t rows, const int32_t *b, int32_t reduction,
    const float *v, float *out, int32_t accumulate) {
  int32_t i = 0;
  for (; i + 6 <= rows; i += 6) {
    kernel(in + a[i], in + a[i + 1], in + a[i + 2], in + a[i + 3], in + a[i + 4], in + a[i + 5],
           b, reduction, v, out + 16 * i, accumulate);
  }
  if (i == rows) return;
  const int32_t left = rows - i;
  float tile[6 * 16];
  memset(tile, 0, sizeof tile);
  if (accumulate) memcpy(tile, out + 16 * i, sizeof(float) * 16 * (size_t)left);
  const float *p[6];
  for (int32_t r = 0; r < 6; r++) p[r] = in + a[i + (r < left ? r : left - 1)];
  kernel(p[0], p[1], p[2], p[3], p[4], p[5], b, reduction, v, tile, accumulate);
  memcpy(out + 16 * i, tile, sizeof(float) * 16 * (size_t)left);
}

void fedsim_gather_product16(
    const float *in, const int32_t *a, int32_t rows, const int32_t *b, int32_t reduction,
    const float *v, float *out, int32_t accumulate) {
  all_rows(gather_rows, in, a, rows, b, reduction, v, out, accumulate);
}

void fedsim_window_product16(
    const float *in, const int32_t *a, int32_t rows, const int32_t *b, int32_t reduction,
    const float *w, float *out, int32_t accumulate) {
  all_rows(window_rows, in, a, rows, b, reduction, w, out, accumulate);
}

#else

int fedsim_gather_product_available(void) { return 0; }

void fedsim_gather_product16(
    const float *in, const int32_t *a, int32_t rows, const int32_t *b, int32_t reduction,
    const float *v, float *out, int32_t accumulate) {
  (void)in; (void)a; (void)rows; (void)b; (void)reduction; (void)v; (void)out; (void)accumulate;
}

void fedsim_window_product16(
    const float *in, const int32_t *a, int32_t rows, const int32_t *b, int32_t reduction,
    const float *w, float *out, int32_t accumulate) {
  (void)in; (void)a; (void)rows; (void)b; (void)reduction; (void)w; (void)out; (void)accumulate;
}

#endif
