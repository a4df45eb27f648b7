// The AVX2/FMA kernel of FedSim's direct convolution (Sources/Tensors/Kernels/Kernels+DirectConvolution.swift).
// Six rows at a time: twelve accumulators of eight lanes, two vectors of `v` and one broadcast
// element of `in` in registers. Compiled for baseline x86-64 and dispatched at run time.
#include "CGatherProduct.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2,fma")))

int fedsim_gather_product_available(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#define ROW(r)                                                         \
  x = _mm256_broadcast_ss(p##r + o);                                   \
  c##r##0 = _mm256_fmadd_ps(x, v0, c##r##0);                           \
  c##r##1 = _mm256_fmadd_ps(x, v1, c##r##1);

#define LOAD(r)                                                        \
  __m256 c##r##0 = _mm256_loadu_ps(out + 16 * r);                      \
  __m256 c##r##1 = _mm256_loadu_ps(out + 16 * r + 8);

#define STORE(r)                                                       \
  _mm256_storeu_ps(out + 16 * r, c##r##0);                             \
  _mm256_storeu_ps(out + 16 * r + 8, c##r##1);

/// Six rows whose reads start at p0..p5.
AVX2 static void six_rows(
    const float *p0, const float *p1, const float *p2, const float *p3, const float *p4,
    const float *p5, const int32_t *b, int32_t reduction, const float *v, float *out) {
  LOAD(0) LOAD(1) LOAD(2) LOAD(3) LOAD(4) LOAD(5)
  for (int32_t j = 0; j < reduction; j++) {
    const int32_t o = b[j];
    const __m256 v0 = _mm256_loadu_ps(v + 16 * j), v1 = _mm256_loadu_ps(v + 16 * j + 8);
    __m256 x;
    ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)
  }
  STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5)
}

AVX2 void fedsim_gather_product16(
    const float *in, const int32_t *a, int32_t rows, const int32_t *b, int32_t reduction,
    const float *v, float *out) {
  int32_t i = 0;
  for (; i + 6 <= rows; i += 6) {
    six_rows(in + a[i], in + a[i + 1], in + a[i + 2], in + a[i + 3], in + a[i + 4], in + a[i + 5],
             b, reduction, v, out + 16 * i);
  }
  if (i == rows) return;
  // The last 1 to 5 rows: the missing ones repeat the last row's reads into a scratch tile.
  const int32_t left = rows - i;
  float tile[6 * 16];
  memset(tile, 0, sizeof tile);
  memcpy(tile, out + 16 * i, sizeof(float) * 16 * (size_t)left);
  const float *p[6];
  for (int32_t r = 0; r < 6; r++) p[r] = in + a[i + (r < left ? r : left - 1)];
  six_rows(p[0], p[1], p[2], p[3], p[4], p[5], b, reduction, v, tile);
  memcpy(out + 16 * i, tile, sizeof(float) * 16 * (size_t)left);
}

#else

int fedsim_gather_product_available(void) { return 0; }

void fedsim_gather_product16(
    const float *in, const int32_t *a, int32_t rows, const int32_t *b, int32_t reduction,
    const float *v, float *out) {
  (void)in; (void)a; (void)rows; (void)b; (void)reduction; (void)v; (void)out;
}

#endif
