// Winograd F(4×4, 3×3)'s filter, input and output transforms sixteen lanes at a time in
// AVX-512 (Sources/Tensors/Kernels/Winograd4.swift holds the matrices): points 0, 1, −1, 2, ½
// and ∞. The arithmetic is winograd4_weights.h's, which the eight-lane AVX2 ones
// (winograd4_transforms_avx2.c) share; this file gathers and scatters the lanes.
#include "CGatherProduct.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>

#define AVX512 __attribute__((target("avx512f")))
#define W4_VEC __m512
#define W4_TARGET AVX512
#define W4_SET1 _mm512_set1_ps
#define W4_ADD _mm512_add_ps
#define W4_SUB _mm512_sub_ps
#define W4_MUL _mm512_mul_ps
#define W4_FMADD _mm512_fmadd_ps
#define W4_FMSUB _mm512_fmsub_ps
#include "winograd4_weights.h"

static inline __attribute__((always_inline)) __mmask16 first_lanes(int n) {
  return n >= 16 ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

AVX512 void fedsim_winograd4_filter_transform16(const float *w, int64_t first, int64_t n, int64_t count, float *u) {
  const __m512i nine = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(9));
  for (int64_t f = first; f < first + n; f += 16) {
    const __mmask16 mask = first_lanes((int)(first + n - f));
    const float *g = w + 9 * f;
    __m512 t[9];
    for (int k = 0; k < 9; k++) t[k] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, nine, g + k, 4);
    __m512 o[36];
    filter_block(t, o);
    for (int xi = 0; xi < 36; xi++) _mm512_mask_storeu_ps(u + xi * count + f, mask, o[xi]);
  }
}

// Bᵀ d B of the 6×6 input blocks of a run of `count` (≤ 16) consecutive tiles, four columns
// apart, row r of the first block at d + r·columns: element ξ of tile k to at[ξ·spread + k].
// Reads 68 floats of each row from its start (past the row into the next, or into the room
// the caller leaves after the last); writes only its `count` lanes.
AVX512 void fedsim_winograd4_input_run16(const float *d, int64_t columns, int32_t count, float *at, int64_t spread) {
  // Lanes 0–7: column j of tiles 0–7 from 32 floats; lanes 8–15: of tiles 8–15 from the next 32.
  const __m512i pick[4] = {
    _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28),
    _mm512_setr_epi32(1, 5, 9, 13, 17, 21, 25, 29, 1, 5, 9, 13, 17, 21, 25, 29),
    _mm512_setr_epi32(2, 6, 10, 14, 18, 22, 26, 30, 2, 6, 10, 14, 18, 22, 26, 30),
    _mm512_setr_epi32(3, 7, 11, 15, 19, 23, 27, 31, 3, 7, 11, 15, 19, 23, 27, 31),
  };
  __m512 c[6][6];  // c[r][j]: column j of row r of each tile's block
  for (int r = 0; r < 6; r++) {
    const float *row = d + r * columns;
    const __m512 a0 = _mm512_loadu_ps(row), a1 = _mm512_loadu_ps(row + 16);
    const __m512 a2 = _mm512_loadu_ps(row + 32), a3 = _mm512_loadu_ps(row + 48);
    const __m512 b0 = _mm512_loadu_ps(row + 4), b1 = _mm512_loadu_ps(row + 20);
    const __m512 b2 = _mm512_loadu_ps(row + 36), b3 = _mm512_loadu_ps(row + 52);
    for (int j = 0; j < 6; j++) {
      const __m512i p = pick[j & 3];
      const __m512 lo = j < 4 ? _mm512_permutex2var_ps(a0, p, a1) : _mm512_permutex2var_ps(b0, p, b1);
      const __m512 hi = j < 4 ? _mm512_permutex2var_ps(a2, p, a3) : _mm512_permutex2var_ps(b2, p, b3);
      c[r][j] = _mm512_shuffle_f32x4(lo, hi, _MM_SHUFFLE(1, 0, 1, 0));
    }
  }
  __m512 o[36];
  input_block(c, o);
  const __mmask16 lanes = first_lanes(count);
  for (int xi = 0; xi < 36; xi++) _mm512_mask_storeu_ps(at + xi * spread, lanes, o[xi]);
}

// Aᵀ m A of the 36 products of a run of up to 16 consecutive tiles (element ξ of tile k at
// m[ξ·spread + k]): the 4×4 output blocks, their first `rows` rows and `columns` columns, row i
// at y + i·ld. Reads sixteen lanes of 36 planes from m on (past a short run: into the panel's
// next row or the gap after it, never written out).
AVX512 void fedsim_winograd4_output_run16(
    const float *m, int64_t spread, float *y, int64_t ld, int32_t rows, int32_t columns) {
  __m512 products[36];
  for (int xi = 0; xi < 36; xi++) products[xi] = _mm512_loadu_ps(m + xi * spread);
  __m512 result[4][4];  // result[j][i]: output (i, j) of each tile
  output_block(products, result);
  const __m512i pairLow = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i pairHigh = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const __m512i quadLow = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
  const __m512i quadHigh = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
  for (int i = 0; i < rows; i++) {
    const __m512 v0 = result[0][i], v1 = result[1][i], v2 = result[2][i], v3 = result[3][i];
    const __m512 p01l = _mm512_permutex2var_ps(v0, pairLow, v1), p01h = _mm512_permutex2var_ps(v0, pairHigh, v1);
    const __m512 p23l = _mm512_permutex2var_ps(v2, pairLow, v3), p23h = _mm512_permutex2var_ps(v2, pairHigh, v3);
    const __m512 q[4] = {
      _mm512_castpd_ps(_mm512_permutex2var_pd(_mm512_castps_pd(p01l), quadLow, _mm512_castps_pd(p23l))),
      _mm512_castpd_ps(_mm512_permutex2var_pd(_mm512_castps_pd(p01l), quadHigh, _mm512_castps_pd(p23l))),
      _mm512_castpd_ps(_mm512_permutex2var_pd(_mm512_castps_pd(p01h), quadLow, _mm512_castps_pd(p23h))),
      _mm512_castpd_ps(_mm512_permutex2var_pd(_mm512_castps_pd(p01h), quadHigh, _mm512_castps_pd(p23h))),
    };
    float *out = y + i * ld;
    for (int part = 0; part < 4; part++) _mm512_mask_storeu_ps(out + 16 * part, first_lanes(columns - 16 * part), q[part]);
  }
}

#else

void fedsim_winograd4_filter_transform16(const float *w, int64_t first, int64_t n, int64_t count, float *u) {
  (void)w; (void)first; (void)n; (void)count; (void)u;
}

void fedsim_winograd4_input_run16(const float *d, int64_t columns, int32_t count, float *at, int64_t spread) {
  (void)d; (void)columns; (void)count; (void)at; (void)spread;
}

void fedsim_winograd4_output_run16(
    const float *m, int64_t spread, float *y, int64_t ld, int32_t rows, int32_t columns) {
  (void)m; (void)spread; (void)y; (void)ld; (void)rows; (void)columns;
}

#endif
