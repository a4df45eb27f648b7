// Where max pooling's windows peak (Sources/Tensors/Ops/Tensor+Pooling.swift), eight windows of
// an output row at a time in AVX2: each lane walks its window in the same row-major order as
// the scalar rule (take an element when it is larger or NaN), so lanes choose exactly what the
// scalar code would. Windows clipped by the padding stay scalar. Compiled for baseline x86-64
// and dispatched at run time (fedsim_gather_product_available).
#include "CGatherProduct.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

// One window's position by the scalar rule: rows [r0, r1), columns [c0, c1), h×w plane.
static float window_position(const float *p, int32_t w, int32_t r0, int32_t r1, int32_t c0, int32_t c1) {
  int32_t at = r0 * w + c0;
  float best = p[at];
  for (int32_t r = r0; r < r1; r++) {
    for (int32_t col = c0; col < c1; col++) {
      float v = p[r * w + col];
      if (v > best || v != v) best = v, at = r * w + col;
    }
  }
  return (float)at;
}

// Eight whole windows whose first column is `left` (lanes `stride` apart), rows [r0, r1).
AVX2 static void eight_windows(const float *p, int32_t w, int32_t kernel, int32_t stride, int32_t r0, int32_t r1,
                               int32_t left, float *into) {
  const __m256i lanes = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(stride));
  const __m256 lanePositions = _mm256_cvtepi32_ps(lanes);
  const float *first = p + r0 * w + left;
  __m256 best = _mm256_i32gather_ps(first, lanes, 4);
  __m256 at = _mm256_add_ps(lanePositions, _mm256_set1_ps((float)(r0 * w + left)));
  for (int32_t r = r0; r < r1; r++) {
    for (int32_t dc = 0; dc < kernel; dc++) {
      int32_t offset = r * w + left + dc;
      __m256 v = _mm256_i32gather_ps(p + offset, lanes, 4);
      __m256 take = _mm256_or_ps(_mm256_cmp_ps(v, best, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
      best = _mm256_blendv_ps(best, v, take);
      at = _mm256_blendv_ps(at, _mm256_add_ps(lanePositions, _mm256_set1_ps((float)offset)), take);
    }
  }
  _mm256_storeu_ps(into, at);
}

AVX2 void fedsim_max_positions(const float *p, int32_t h, int32_t w, int32_t kernel, int32_t stride,
                               int32_t padding, int32_t oh, int32_t ow, float *into) {
  // Output columns whose windows lie inside the plane's columns: [inLo, inHi).
  int32_t inLo = (padding + stride - 1) / stride;
  int32_t inHi = w + padding >= kernel ? (w + padding - kernel) / stride + 1 : 0;
  if (inHi > ow) inHi = ow;
  if (inLo > inHi) inLo = inHi;
  for (int32_t i = 0; i < oh; i++) {
    int32_t top = i * stride - padding;
    int32_t r0 = top > 0 ? top : 0, r1 = top + kernel < h ? top + kernel : h;
    float *row = into + (int64_t)i * ow;
    int32_t j = 0;
    for (; j < ow; j++) {
      if (j >= inLo && j + 8 <= inHi) {
        eight_windows(p, w, kernel, stride, r0, r1, j * stride - padding, row + j);
        j += 7;
        continue;
      }
      int32_t left = j * stride - padding;
      int32_t c0 = left > 0 ? left : 0, c1 = left + kernel < w ? left + kernel : w;
      row[j] = window_position(p, w, r0, r1, c0, c1);
    }
  }
}

#else

void fedsim_max_positions(const float *p, int32_t h, int32_t w, int32_t kernel, int32_t stride,
                          int32_t padding, int32_t oh, int32_t ow, float *into) {
  (void)p; (void)h; (void)w; (void)kernel; (void)stride; (void)padding; (void)oh; (void)ow; (void)into;
}

#endif
