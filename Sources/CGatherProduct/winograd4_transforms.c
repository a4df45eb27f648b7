// Winograd F(4×4, 3×3)'s filter, input and output transforms sixteen lanes at a time in
// AVX-512 (Sources/Tensors/Kernels/Winograd4.swift holds the matrices): points 0, 1, −1, 2, ½
// and ∞.
#include "CGatherProduct.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>

#define AVX512 __attribute__((target("avx512f")))

static inline __attribute__((always_inline)) __mmask16 first_lanes(int n) {
  return n >= 16 ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

// G = [½ 0 0; ½ ½ ½; −1/18 1/18 −1/18; 1/18 1/9 2/9; 2/9 1/9 1/18; 0 0 ½] of (g0, g1, g2).
AVX512 static inline __attribute__((always_inline)) void filter_weights(__m512 g0, __m512 g1, __m512 g2, __m512 o[6]) {
  const __m512 half = _mm512_set1_ps(0.5f), ninth = _mm512_set1_ps(1.0f / 9), eighteenth = _mm512_set1_ps(1.0f / 18);
  const __m512 two = _mm512_set1_ps(2.0f);
  o[0] = _mm512_mul_ps(g0, half);
  o[1] = _mm512_mul_ps(_mm512_add_ps(_mm512_add_ps(g0, g1), g2), half);
  o[2] = _mm512_mul_ps(_mm512_sub_ps(_mm512_sub_ps(g1, g0), g2), eighteenth);
  o[3] = _mm512_mul_ps(_mm512_fmadd_ps(two, g2, _mm512_fmadd_ps(g0, half, g1)), ninth);
  o[4] = _mm512_mul_ps(_mm512_fmadd_ps(g2, half, _mm512_fmadd_ps(two, g0, g1)), ninth);
  o[5] = _mm512_mul_ps(g2, half);
}

AVX512 void fedsim_winograd4_filter_transform16(const float *w, int64_t first, int64_t n, int64_t count, float *u) {
  const __m512i nine = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(9));
  for (int64_t f = first; f < first + n; f += 16) {
    const __mmask16 mask = first_lanes((int)(first + n - f));
    const float *g = w + 9 * f;
    __m512 t[9];
    for (int k = 0; k < 9; k++) t[k] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, nine, g + k, 4);
    __m512 c[3][6];  // column j of G g
    for (int j = 0; j < 3; j++) filter_weights(t[j], t[3 + j], t[6 + j], c[j]);
    for (int r = 0; r < 6; r++) {
      __m512 o[6];
      filter_weights(c[0][r], c[1][r], c[2][r], o);
      for (int e = 0; e < 6; e++) _mm512_mask_storeu_ps(u + (6 * r + e) * count + f, mask, o[e]);
    }
  }
}

// Bᵀ x: Bᵀ = [2 −5 0 5 −2 0; 0 −2 3 3 −2 0; 0 2 −7 7 −2 0; 0 1 −2 −1 2 0; 0 2 −1 −2 1 0; 0 −2 5 0 −5 2].
AVX512 static inline __attribute__((always_inline)) void input_weights(const __m512 x[6], __m512 o[6]) {
  const __m512 two = _mm512_set1_ps(2.0f), three = _mm512_set1_ps(3.0f), five = _mm512_set1_ps(5.0f);
  const __m512 seven = _mm512_set1_ps(7.0f);
  const __m512 d04 = _mm512_sub_ps(x[0], x[4]), d31 = _mm512_sub_ps(x[3], x[1]), d14 = _mm512_sub_ps(x[1], x[4]);
  const __m512 d32 = _mm512_sub_ps(x[3], x[2]), d13 = _mm512_sub_ps(x[1], x[3]), d42 = _mm512_sub_ps(x[4], x[2]);
  const __m512 d51 = _mm512_sub_ps(x[5], x[1]), d24 = _mm512_sub_ps(x[2], x[4]);
  o[0] = _mm512_fmadd_ps(five, d31, _mm512_mul_ps(two, d04));
  o[1] = _mm512_fmsub_ps(three, _mm512_add_ps(x[2], x[3]), _mm512_mul_ps(two, _mm512_add_ps(x[1], x[4])));
  o[2] = _mm512_fmadd_ps(seven, d32, _mm512_mul_ps(two, d14));
  o[3] = _mm512_fmadd_ps(two, d42, d13);
  o[4] = _mm512_fmadd_ps(two, d13, d42);
  o[5] = _mm512_fmadd_ps(five, d24, _mm512_mul_ps(two, d51));
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
  const __mmask16 lanes = first_lanes(count);
  // Down each column (Bᵀ d), then along each transformed row (· B).
  __m512 down[6][6];  // down[j][ξ]
  for (int j = 0; j < 6; j++) {
    const __m512 x[6] = {c[0][j], c[1][j], c[2][j], c[3][j], c[4][j], c[5][j]};
    input_weights(x, down[j]);
  }
  for (int i = 0; i < 6; i++) {
    const __m512 x[6] = {down[0][i], down[1][i], down[2][i], down[3][i], down[4][i], down[5][i]};
    __m512 o[6];
    input_weights(x, o);
    for (int e = 0; e < 6; e++) _mm512_mask_storeu_ps(at + (6 * i + e) * spread, lanes, o[e]);
  }
}

// Aᵀ m: Aᵀ = [1 1 1 1 8 0; 0 1 −1 2 4 0; 0 1 1 4 2 0; 0 1 −1 8 1 1].
AVX512 static inline __attribute__((always_inline)) void output_weights(const __m512 m[6], __m512 o[4]) {
  const __m512 two = _mm512_set1_ps(2.0f), four = _mm512_set1_ps(4.0f), eight = _mm512_set1_ps(8.0f);
  const __m512 s12 = _mm512_add_ps(m[1], m[2]), d12 = _mm512_sub_ps(m[1], m[2]);
  o[0] = _mm512_fmadd_ps(eight, m[4], _mm512_add_ps(_mm512_add_ps(m[0], s12), m[3]));
  o[1] = _mm512_fmadd_ps(four, m[4], _mm512_fmadd_ps(two, m[3], d12));
  o[2] = _mm512_fmadd_ps(two, m[4], _mm512_fmadd_ps(four, m[3], s12));
  o[3] = _mm512_add_ps(_mm512_fmadd_ps(eight, m[3], d12), _mm512_add_ps(m[4], m[5]));
}

// Aᵀ m A of the 36 products of a run of up to 16 consecutive tiles (element ξ of tile k at
// m[ξ·spread + k]): the 4×4 output blocks, their first `rows` rows and `columns` columns, row i
// at y + i·ld. Reads sixteen lanes of 36 planes from m on (past a short run: into the panel's
// next row or the gap after it, never written out).
AVX512 void fedsim_winograd4_output_run16(
    const float *m, int64_t spread, float *y, int64_t ld, int32_t rows, int32_t columns) {
  __m512 along[6][4];  // along[r][j]: row r of the products by A
  for (int r = 0; r < 6; r++) {
    __m512 q[6];
    for (int e = 0; e < 6; e++) q[e] = _mm512_loadu_ps(m + (6 * r + e) * spread);
    output_weights(q, along[r]);
  }
  const __m512i pairLow = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i pairHigh = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const __m512i quadLow = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
  const __m512i quadHigh = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
  __m512 result[4][4];  // result[j][i]: output (i, j) of each tile
  for (int j = 0; j < 4; j++) {  // column j, down the rows (Aᵀ ·)
    const __m512 x[6] = {along[0][j], along[1][j], along[2][j], along[3][j], along[4][j], along[5][j]};
    output_weights(x, result[j]);
  }
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
