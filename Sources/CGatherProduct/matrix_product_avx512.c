// A general matrix product in AVX-512 for CPUs that run 512-bit FMAs (Zen 5, Sapphire Rapids),
// where the OpenBLAS this project gets may be held to its AVX2 kernels. The scheme is the usual
// one (Goto and van de Geijn, "Anatomy of high-performance matrix multiplication", 2008, as in
// BLIS): op(a) is packed KC columns at a time into panels of MR rows (the broadcast side, kept in
// L1 across a row of tiles), op(b) KC rows by NCV columns at a time into panels of 16 columns
// (the vector side, kept in L2), and an MR×32 tile of c lives in 24 registers while KC steps
// of broadcast-times-vector FMAs run. Edges are zero-padded in the packs and masked on store; a
// short last panel of rows runs a kernel of its own rows only. Where c's columns would fill the
// vectors badly and its rows the panels well (a 7×7 layer's 49 pixels issue 64 lanes), cᵀ is
// computed instead and turned back. A layer's filters, which such products read as op(b) at
// every pass, may be packed whole once (fedsim_pack_filter) and then read column by column, the
// next panels fetched ahead (fedsim_packed_product). One thread a call: FedSim's callers cut
// products between their threads.
#include "CGatherProduct.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define AVX512 __attribute__((target("avx512f")))

enum { MR = 12, KC = 256, NCV = 512, MCB = 1536, LANES = 16 };

#include "matrix_product_parts.h"

// Transposes 16 rows of 16 lanes in registers: afterwards r[c] holds what was lane c of each
// row, in row order (unpacks within pairs of rows, shuffles within 128-bit lanes, then across).
AVX512 static inline void transpose16(__m512 r[16]) {
  __m512 t[16], s[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 4; g++) {  // s[4g + q], lane L: column 4L + q of rows 4g..4g+3
    s[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], _MM_SHUFFLE(1, 0, 1, 0));
    s[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], _MM_SHUFFLE(3, 2, 3, 2));
    s[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(1, 0, 1, 0));
    s[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int q = 0; q < 4; q++) {
    __m512 x = _mm512_shuffle_f32x4(s[q], s[4 + q], 0x88), y = _mm512_shuffle_f32x4(s[q], s[4 + q], 0xDD);
    __m512 x2 = _mm512_shuffle_f32x4(s[8 + q], s[12 + q], 0x88), y2 = _mm512_shuffle_f32x4(s[8 + q], s[12 + q], 0xDD);
    r[q] = _mm512_shuffle_f32x4(x, x2, 0x88);
    r[8 + q] = _mm512_shuffle_f32x4(x, x2, 0xDD);
    r[4 + q] = _mm512_shuffle_f32x4(y, y2, 0x88);
    r[12 + q] = _mm512_shuffle_f32x4(y, y2, 0xDD);
  }
}

// Copies `count` (≤ 16) rows of `steps` floats, `ld` apart from `source`, turned: step p of row
// i goes to out[p * stride + i], `lanes` (≤ 16) of them a step, zero past `count`.
AVX512 static void turn(const float *source, int64_t ld, int64_t count, int64_t steps, float *out, int64_t stride,
                        __mmask16 lanes) {
  for (int64_t p0 = 0; p0 < steps; p0 += 16) {
    int64_t valid = steps - p0 < 16 ? steps - p0 : 16;
    __mmask16 mask = (__mmask16)((1u << valid) - 1);
    __m512 r[16];
    for (int64_t i = 0; i < 16; i++) {
      r[i] = i < count ? _mm512_maskz_loadu_ps(mask, source + i * ld + p0) : _mm512_setzero_ps();
    }
    transpose16(r);
    for (int64_t q = 0; q < valid; q++) _mm512_mask_storeu_ps(out + (p0 + q) * stride, lanes, r[q]);
  }
}

// Rows [row, row + rows) and steps [step, step + kc) of op(a) into panels of MR rows, step-major
// within a panel (MR values a step), rows past the end zero.
AVX512 static void pack_a(const float *a, int64_t lda, int transposed, int64_t row, int64_t rows, int64_t step,
                          int64_t kc, float *out) {
  for (int64_t r0 = 0; r0 < rows; r0 += MR, out += MR * kc) {
    int64_t valid = rows - r0 < MR ? rows - r0 : MR;
    if (transposed) {  // op(a)[i][p] = a[p * lda + i]: a step's rows lie together
      __mmask16 mask = (__mmask16)((1u << valid) - 1);
      for (int64_t p = 0; p < kc; p++) {
        _mm512_mask_storeu_ps(out + p * MR, (1u << MR) - 1, _mm512_maskz_loadu_ps(mask, a + (step + p) * lda + row + r0));
      }
    } else {  // a row's steps lie together: turned 16 steps at a time
      turn(a + (row + r0) * lda + step, lda, valid, kc, out, MR, (__mmask16)((1u << MR) - 1));
    }
  }
}

// Steps [step, step + kc) and columns [column, column + columns) of op(b) into panels of 16
// columns, step-major within a panel, columns past the end zero.
AVX512 static void pack_b(const float *b, int64_t ldb, int transposed, int64_t step, int64_t kc, int64_t column,
                          int64_t columns, float *out) {
  for (int64_t j0 = 0; j0 < columns; j0 += 16, out += 16 * kc) {
    int64_t valid = columns - j0 < 16 ? columns - j0 : 16;
    __mmask16 mask = (__mmask16)((1u << valid) - 1);
    if (!transposed) {  // op(b)[p][j] = b[p * ldb + j]: a step's 16 columns lie together
      for (int64_t p = 0; p < kc; p++) {
        _mm512_store_ps(out + 16 * p, _mm512_maskz_loadu_ps(mask, b + (step + p) * ldb + column + j0));
      }
    } else {  // op(b)[p][j] = b[j * ldb + p]: a column's steps lie together, turned
      turn(b + (column + j0) * ldb + step, ldb, valid, kc, out, 16, 0xFFFF);
    }
  }
}

// c = alpha · tile + beta · c on the valid rows and lanes (beta 0: c is not read).
#define STORE_ROW(r, acc, mask, at)                                                           \
  if (r < rows) {                                                                             \
    __m512 v = _mm512_mul_ps(acc, alphas);                                                    \
    float *target = c + (int64_t)r * ldc + (at);                                              \
    if (beta != 0) v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, target), betas, v);       \
    _mm512_mask_storeu_ps(target, mask, v);                                                   \
  }

#define ZERO2(r) __m512 c##r##0 = _mm512_setzero_ps(), c##r##1 = _mm512_setzero_ps();
#define ZERO1(r) __m512 c##r##0 = _mm512_setzero_ps();
#define EACH(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11)

// The masks of a tile's two vectors of 16 columns when `columns` of them are valid.
static inline __mmask16 lanes(int columns) {
  return columns >= 16 ? 0xFFFF : columns <= 0 ? 0 : (__mmask16)((1u << columns) - 1);
}

// An MR×32 tile: row r of op(a) at step p is a[r * rs + p * ss] (a packed panel: rs 1, ss MR),
// `b` two adjacent packed panels of 16 columns (zero past the last column). Only the first
// `rows` rows are computed and `columns` columns stored: `rows` is a constant where it is
// inlined, so a short panel's kernel issues only its own rows' FMAs.
#define INLINE AVX512 static inline __attribute__((always_inline))
INLINE void tile32_at(int64_t kc, const float *a, int64_t rs, int64_t ss, const float *b, float *c, int64_t ldc,
                      int rows, int columns, float alpha, float beta, const float *fetch) {
  EACH(ZERO2)
  const float *b1 = b + 16 * kc, *ap = a;
  for (int64_t p = 0; p < kc; p++, ap += ss) {
    const __m512 b0 = _mm512_load_ps(b + 16 * p), b1p = _mm512_load_ps(b1 + 16 * p);
    if (fetch) _mm_prefetch((const char *)(fetch + 16 * p), _MM_HINT_T0);
#define FMA2(r)                                                                                \
  if (r < rows) {                                                                              \
    __m512 x = _mm512_set1_ps(ap[r * rs]);                                                     \
    c##r##0 = _mm512_fmadd_ps(x, b0, c##r##0);                                                 \
    c##r##1 = _mm512_fmadd_ps(x, b1p, c##r##1);                                                \
  }
    EACH(FMA2)
  }
  const __m512 alphas = _mm512_set1_ps(alpha), betas = _mm512_set1_ps(beta);
  const __mmask16 m0 = lanes(columns), m1 = lanes(columns - 16);
#define STORE2(r) STORE_ROW(r, c##r##0, m0, 0) STORE_ROW(r, c##r##1, m1, 16)
  EACH(STORE2)
}

// An MR×16 tile, for the last 16 or fewer columns.
INLINE void tile16_at(int64_t kc, const float *a, int64_t rs, int64_t ss, const float *b, float *c, int64_t ldc,
                      int rows, int columns, float alpha, float beta, const float *fetch) {
  EACH(ZERO1)
  const float *ap = a;
  for (int64_t p = 0; p < kc; p++, ap += ss) {
    const __m512 b0 = _mm512_load_ps(b + 16 * p);
    if (fetch) _mm_prefetch((const char *)(fetch + 16 * p), _MM_HINT_T0);
#define FMA1(r) if (r < rows) c##r##0 = _mm512_fmadd_ps(_mm512_set1_ps(ap[r * rs]), b0, c##r##0);
    EACH(FMA1)
  }
  const __m512 alphas = _mm512_set1_ps(alpha), betas = _mm512_set1_ps(beta);
  const __mmask16 m0 = lanes(columns);
#define STORE1(r) STORE_ROW(r, c##r##0, m0, 0)
  EACH(STORE1)
}

// The tiles of a row of panels of c, `columns` wide, from one panel of op(a) and the packed
// panels `pb`: ROWS rows (MR, or a short last panel's) read packed (constant strides) or where
// they lie.
#define ROW_OF_TILES(name, RS, SS, ROWS)                                                                       \
  AVX512 static void name(int64_t kc, const float *a, int64_t rs, int64_t ss, const float *pb, int64_t columns, \
                          float *c, int64_t ldc, float alpha, float beta) {                                    \
    (void)rs; (void)ss;                                                                                        \
    int64_t j = 0;                                                                                             \
    for (; j + 16 < columns; j += 32) {                                                                        \
      int w = (int)(columns - j < 32 ? columns - j : 32);                                                      \
      tile32_at(kc, a, RS, SS, pb + j * kc, c + j, ldc, ROWS, w, alpha, beta, NULL);                           \
    }                                                                                                          \
    if (j < columns) tile16_at(kc, a, RS, SS, pb + j * kc, c + j, ldc, ROWS, (int)(columns - j), alpha, beta, NULL); \
  }
ROW_OF_TILES(packed_row, 1, MR, MR)
ROW_OF_TILES(strided_row, rs, ss, MR)
#define SHORT_ROW(R) ROW_OF_TILES(packed_row##R, 1, MR, R)
SHORT_ROW(1) SHORT_ROW(2) SHORT_ROW(3) SHORT_ROW(4) SHORT_ROW(5) SHORT_ROW(6)
SHORT_ROW(7) SHORT_ROW(8) SHORT_ROW(9) SHORT_ROW(10) SHORT_ROW(11)

typedef void (*RowOfTiles)(int64_t, const float *, int64_t, int64_t, const float *, int64_t, float *, int64_t,
                           float, float);
// A short last panel's kernel, by its rows.
static const RowOfTiles shortRows[MR] = {
  NULL, packed_row1, packed_row2, packed_row3, packed_row4, packed_row5, packed_row6,
  packed_row7, packed_row8, packed_row9, packed_row10, packed_row11,
};

// The tiles of one block column by column, for op(b) packed ahead (a layer's filters, which
// come from memory rather than from pack_b's L2): each pair of panels serves every row of tiles
// while the first two rows fetch the next pair's two panels, a line a step.
AVX512 static void block_by_columns(int64_t kc, Rows a, const float *pb, int64_t rows, int64_t columns, float *c,
                                    int64_t ldc, float alpha, float beta) {
  for (int64_t j = 0; j < columns; j += 32) {
    int w = (int)(columns - j < 32 ? columns - j : 32);
    const float *b = pb + j * kc, *next = j + 32 < columns ? b + 32 * kc : NULL;
    int64_t i = 0;
    for (; i + MR <= rows; i += MR) {
      const float *fetch = !next || i > MR ? NULL : i == 0 ? next : columns - j > 48 ? next + 16 * kc : NULL;
      if (w > 16) {
        tile32_at(kc, a.at + i * kc, 1, MR, b, c + i * ldc + j, ldc, MR, w, alpha, beta, fetch);
      } else {
        tile16_at(kc, a.at + i * kc, 1, MR, b, c + i * ldc + j, ldc, MR, w, alpha, beta, fetch);
      }
    }
    if (i < rows) shortRows[rows - i](kc, a.at + i * kc, 1, MR, b, w, c + i * ldc + j, ldc, alpha, beta);
  }
}

// c = alpha · tᵀ + beta · c for t [n × m] (row length m): 16×16 blocks turned in registers.
AVX512 static void store_turned(const float *t, int64_t m, int64_t n, float alpha, float beta, float *c, int64_t ldc) {
  const __m512 alphas = _mm512_set1_ps(alpha), betas = _mm512_set1_ps(beta);
  for (int64_t j0 = 0; j0 < n; j0 += 16) {
    int64_t columns = n - j0 < 16 ? n - j0 : 16;
    __mmask16 columnMask = (__mmask16)((1u << columns) - 1);
    for (int64_t i0 = 0; i0 < m; i0 += 16) {
      int64_t rows = m - i0 < 16 ? m - i0 : 16;
      __mmask16 rowMask = (__mmask16)((1u << rows) - 1);
      __m512 r[16];
      for (int64_t q = 0; q < 16; q++) {
        r[q] = q < columns ? _mm512_maskz_loadu_ps(rowMask, t + (j0 + q) * m + i0) : _mm512_setzero_ps();
      }
      transpose16(r);
      for (int64_t q = 0; q < rows; q++) {
        float *target = c + (i0 + q) * ldc + j0;
        __m512 v = _mm512_mul_ps(r[q], alphas);
        if (beta != 0) v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(columnMask, target), betas, v);
        _mm512_mask_storeu_ps(target, columnMask, v);
      }
    }
  }
}

#define ISA(name) name##_avx512
#define KERNEL AVX512
#include "matrix_product_driver.h"

#endif
