// Winograd F(4×4, 3×3)'s filter, input and output transforms eight lanes at a time in AVX2 with
// FMA, for CPUs without AVX-512 (Zen 3 here): the arithmetic of winograd4_weights.h, which the
// sixteen-lane AVX-512 ones (winograd4_transforms.c) share, so both give the same values; this
// file gathers and scatters the lanes.
#include "CGatherProduct.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define W4_VEC __m256
#define W4_TARGET AVX2
#define W4_SET1 _mm256_set1_ps
#define W4_ADD _mm256_add_ps
#define W4_SUB _mm256_sub_ps
#define W4_MUL _mm256_mul_ps
#define W4_FMADD _mm256_fmadd_ps
#define W4_FMSUB _mm256_fmsub_ps
#include "winograd4_weights.h"

#include "avx2_lanes.h"

AVX2 void fedsim_winograd4_filter_transform8(const float *w, int64_t first, int64_t n, int64_t count, float *u) {
  const __m256i nine = _mm256_setr_epi32(0, 9, 18, 27, 36, 45, 54, 63);
  for (int64_t f = first; f < first + n; f += 8) {
    const int lanes = (int)(first + n - f);
    const __m256 mask = _mm256_castsi256_ps(first_lanes(lanes));
    const float *g = w + 9 * f;
    __m256 t[9];
    for (int k = 0; k < 9; k++) t[k] = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), g + k, nine, mask, 4);
    __m256 o[36];
    filter_block(t, o);
    for (int xi = 0; xi < 36; xi++) store_lanes(u + xi * count + f, lanes, o[xi]);
  }
}

// Columns j = 0…3 (`quads` 4) or 0…1 (2) of four tiles' rows, one tile a 128-bit half of
// r[0…3] (tiles k and k + 4 in r[k]): c[j] holds column j of tiles 0…3, then 4…7.
AVX2 static inline __attribute__((always_inline)) void columns_of(const __m256 r[4], int quads, __m256 *c) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t2 = _mm256_unpacklo_ps(r[2], r[3]);
  c[0] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  c[1] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  if (quads < 4) return;
  const __m256 t1 = _mm256_unpackhi_ps(r[0], r[1]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  c[2] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  c[3] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
}

// Bᵀ d B of the 6×6 input blocks of a run of `count` (≤ 8) consecutive tiles, four columns
// apart, row r of the first block at d + r·columns: element ξ of tile k to at[ξ·spread + k].
// Reads 36 floats of each row from its start (past the row into the next, or into the room
// the caller leaves after the last); writes only its `count` lanes.
AVX2 void fedsim_winograd4_input_run8(const float *d, int64_t columns, int32_t count, float *at, int64_t spread) {
  __m256 c[6][6];  // c[r][j]: column j of row r of each tile's block
  for (int r = 0; r < 6; r++) {
    const float *row = d + r * columns;
    // Tiles k and k + 4: their columns 0…3 in a[k], 4…7 in a[k + 1] (tile k's columns 4…7 are
    // tile k + 1's 0…3).
    __m256 a[5];
    for (int k = 0; k < 5; k++) a[k] = _mm256_loadu2_m128(row + 4 * k + 16, row + 4 * k);
    columns_of(a, 4, c[r]);
    columns_of(a + 1, 2, c[r] + 4);
  }
  __m256 o[36];
  input_block(c, o);
  for (int xi = 0; xi < 36; xi++) store_lanes(at + xi * spread, count, o[xi]);
}

// Aᵀ m A of the 36 products of a run of up to 8 consecutive tiles (element ξ of tile k at
// m[ξ·spread + k]): the 4×4 output blocks, their first `rows` rows and `columns` columns, row i
// at y + i·ld. Reads eight lanes of 36 planes from m on (past a short run: into the panel's
// next lanes or the gap after it, never written out).
AVX2 void fedsim_winograd4_output_run8(
    const float *m, int64_t spread, float *y, int64_t ld, int32_t rows, int32_t columns) {
  __m256 products[36];
  for (int xi = 0; xi < 36; xi++) products[xi] = _mm256_loadu_ps(m + xi * spread);
  __m256 result[4][4];  // result[j][i]: output (i, j) of each tile
  output_block(products, result);
  for (int i = 0; i < rows; i++) {
    __m256 q[4];  // q[k]: row i of tiles k (low half) and k + 4 (high half)
    const __m256 v[4] = {result[0][i], result[1][i], result[2][i], result[3][i]};
    columns_of(v, 4, q);
    float *out = y + i * ld;
    store_lanes(out, columns, _mm256_permute2f128_ps(q[0], q[1], 0x20));
    store_lanes(out + 8, columns - 8, _mm256_permute2f128_ps(q[2], q[3], 0x20));
    store_lanes(out + 16, columns - 16, _mm256_permute2f128_ps(q[0], q[1], 0x31));
    store_lanes(out + 24, columns - 24, _mm256_permute2f128_ps(q[2], q[3], 0x31));
  }
}

#else

void fedsim_winograd4_filter_transform8(const float *w, int64_t first, int64_t n, int64_t count, float *u) {
  (void)w; (void)first; (void)n; (void)count; (void)u;
}

void fedsim_winograd4_input_run8(const float *d, int64_t columns, int32_t count, float *at, int64_t spread) {
  (void)d; (void)columns; (void)count; (void)at; (void)spread;
}

void fedsim_winograd4_output_run8(
    const float *m, int64_t spread, float *y, int64_t ld, int32_t rows, int32_t columns) {
  (void)m; (void)spread; (void)y; (void)ld; (void)rows; (void)columns;
}

#endif
