// FedSim's matrix product in AVX2 with FMA, for CPUs without AVX-512 (Zen 3 here), the scheme of
// matrix_product_avx512.c at half the width: op(a) packed in panels of MR = 6 rows, op(b) in
// panels of 16 columns (the AVX-512 product's, so a packed filter has one layout), and a 6×16
// tile of c in 12 registers of 8 lanes (the 16 the ISA has hold them, the two vectors of op(b)
// and the broadcast). OpenBLAS's own kernels are as fast on large products; what this adds is a
// layer's filters packed once and kept (fedsim_packed_product): ResNet-18's 512-channel layers
// over 7×7 pixels repacked 9.4 MiB of filters at every pass through OpenBLAS, about a tenth of
// the time an evaluation spent there, and ran at half the core's rate.
#include "CGatherProduct.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>

#define AVX2 __attribute__((target("avx2,fma")))

enum { MR = 6, KC = 256, NCV = 256, MCB = 1536, LANES = 8 };

#include "matrix_product_parts.h"

#include "avx2_lanes.h"

// Transposes 8 rows of 8 lanes in registers: afterwards r[c] holds what was lane c of each row.
AVX2 static inline void transpose8(__m256 r[8]) {
  __m256 t[8], s[8];
  for (int i = 0; i < 4; i++) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 2; g++) {  // s[4g + q], lane L: column 4L + q of rows 4g..4g+3, by halves
    s[4 * g + 0] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], _MM_SHUFFLE(1, 0, 1, 0));
    s[4 * g + 1] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], _MM_SHUFFLE(3, 2, 3, 2));
    s[4 * g + 2] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(1, 0, 1, 0));
    s[4 * g + 3] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int q = 0; q < 4; q++) {
    r[q] = _mm256_permute2f128_ps(s[q], s[4 + q], 0x20);
    r[4 + q] = _mm256_permute2f128_ps(s[q], s[4 + q], 0x31);
  }
}

// Copies `count` (≤ 8) rows of `steps` floats, `ld` apart from `source`, turned: step p of row
// i goes to out[p * stride + i], `stored` (6 or 8) lanes of them a step, zero past `count`.
AVX2 static void turn(const float *source, int64_t ld, int64_t count, int64_t steps, float *out, int64_t stride,
                      int64_t stored) {
  for (int64_t p0 = 0; p0 < steps; p0 += 8) {
    int64_t valid = steps - p0 < 8 ? steps - p0 : 8;
    const __m256i mask = first_lanes(valid);
    __m256 r[8];
    for (int64_t i = 0; i < 8; i++) {
      r[i] = i >= count ? _mm256_setzero_ps()
             : valid == 8 ? _mm256_loadu_ps(source + i * ld + p0)
                          : _mm256_maskload_ps(source + i * ld + p0, mask);
    }
    transpose8(r);
    for (int64_t q = 0; q < valid; q++) store_lanes(out + (p0 + q) * stride, stored, r[q]);
  }
}

// Rows [row, row + rows) and steps [step, step + kc) of op(a) into panels of MR rows, step-major
// within a panel (MR values a step), rows past the end zero.
AVX2 static void pack_a(const float *a, int64_t lda, int transposed, int64_t row, int64_t rows, int64_t step,
                        int64_t kc, float *out) {
  for (int64_t r0 = 0; r0 < rows; r0 += MR, out += MR * kc) {
    int64_t valid = rows - r0 < MR ? rows - r0 : MR;
    if (transposed) {  // op(a)[i][p] = a[p * lda + i]: a step's rows lie together
      const __m256i mask = first_lanes(valid);
      for (int64_t p = 0; p < kc; p++) {
        store_lanes(out + p * MR, MR, _mm256_maskload_ps(a + (step + p) * lda + row + r0, mask));
      }
    } else {  // a row's steps lie together: turned 8 steps at a time
      turn(a + (row + r0) * lda + step, lda, valid, kc, out, MR, MR);
    }
  }
}

// Steps [step, step + kc) and columns [column, column + columns) of op(b) into panels of 16
// columns, step-major within a panel, columns past the end zero.
AVX2 static void pack_b(const float *b, int64_t ldb, int transposed, int64_t step, int64_t kc, int64_t column,
                        int64_t columns, float *out) {
  for (int64_t j0 = 0; j0 < columns; j0 += 16, out += 16 * kc) {
    int64_t valid = columns - j0 < 16 ? columns - j0 : 16;
    if (!transposed) {  // op(b)[p][j] = b[p * ldb + j]: a step's 16 columns lie together
      const __m256i low = first_lanes(valid), high = first_lanes(valid - 8);
      for (int64_t p = 0; p < kc; p++) {
        const float *from = b + (step + p) * ldb + column + j0;
        _mm256_store_ps(out + 16 * p, _mm256_maskload_ps(from, low));
        _mm256_store_ps(out + 16 * p + 8, _mm256_maskload_ps(from + 8, high));
      }
    } else {  // op(b)[p][j] = b[j * ldb + p]: a column's steps lie together, turned 8 at a time
      const float *from = b + (column + j0) * ldb + step;
      turn(from, ldb, valid < 8 ? valid : 8, kc, out, 16, 8);
      turn(from + 8 * ldb, ldb, valid > 8 ? valid - 8 : 0, kc, out + 8, 16, 8);
    }
  }
}

// c = alpha · acc + beta · c on a row's first `valid` lanes (beta 0: c is not read), by plain
// stores (`store_lanes`: AMD's masked stores are slow).
AVX2 static inline void store(__m256 acc, float *target, int64_t valid, float alpha, float beta) {
  if (valid <= 0) return;
  __m256 v = _mm256_mul_ps(acc, _mm256_set1_ps(alpha));
  if (beta != 0) {
    const __m256 c = valid >= 8 ? _mm256_loadu_ps(target) : _mm256_maskload_ps(target, first_lanes(valid));
    v = _mm256_fmadd_ps(c, _mm256_set1_ps(beta), v);
  }
  store_lanes(target, valid, v);
}

#define EACH(M) M(0) M(1) M(2) M(3) M(4) M(5)
#define INLINE AVX2 static inline __attribute__((always_inline))

// An MR×16 tile: row r of op(a) at step p is a[r * rs + p * ss] (a packed panel: rs 1, ss MR),
// `b` one packed panel of 16 columns (zero past the last column). Only the first `rows` rows are
// computed and `columns` columns stored: `rows` is a constant where it is inlined, so a short
// panel's kernel issues only its own rows' FMAs. `fetch`: a panel to bring into the cache, a
// line a step.
INLINE void tile16_at(int64_t kc, const float *a, int64_t rs, int64_t ss, const float *b, float *c, int64_t ldc,
                      int rows, int64_t columns, float alpha, float beta, const float *fetch) {
#define ZERO2(r) __m256 c##r##0 = _mm256_setzero_ps(), c##r##1 = _mm256_setzero_ps();
  EACH(ZERO2)
  const float *ap = a;
  for (int64_t p = 0; p < kc; p++, ap += ss) {
    const __m256 b0 = _mm256_load_ps(b + 16 * p), b1 = _mm256_load_ps(b + 16 * p + 8);
    if (fetch) _mm_prefetch((const char *)(fetch + 16 * p), _MM_HINT_T0);
#define FMA2(r)                                                                                \
  if (r < rows) {                                                                              \
    __m256 x = _mm256_broadcast_ss(ap + r * rs);                                               \
    c##r##0 = _mm256_fmadd_ps(x, b0, c##r##0);                                                 \
    c##r##1 = _mm256_fmadd_ps(x, b1, c##r##1);                                                 \
  }
    EACH(FMA2)
  }
#define STORE2(r)                                                                              \
  if (r < rows) {                                                                              \
    store(c##r##0, c + r * ldc, columns, alpha, beta);                                         \
    store(c##r##1, c + r * ldc + 8, columns - 8, alpha, beta);                                 \
  }
  EACH(STORE2)
}

// An MR×8 tile, for a last panel of 8 or fewer columns (its first vector).
INLINE void tile8_at(int64_t kc, const float *a, int64_t rs, int64_t ss, const float *b, float *c, int64_t ldc,
                     int rows, int64_t columns, float alpha, float beta, const float *fetch) {
#define ZERO1(r) __m256 c##r##0 = _mm256_setzero_ps();
  EACH(ZERO1)
  const float *ap = a;
  for (int64_t p = 0; p < kc; p++, ap += ss) {
    const __m256 b0 = _mm256_load_ps(b + 16 * p);
    if (fetch) _mm_prefetch((const char *)(fetch + 16 * p), _MM_HINT_T0);
#define FMA1(r) if (r < rows) c##r##0 = _mm256_fmadd_ps(_mm256_broadcast_ss(ap + r * rs), b0, c##r##0);
    EACH(FMA1)
  }
#define STORE1(r) if (r < rows) store(c##r##0, c + r * ldc, columns, alpha, beta);
  EACH(STORE1)
}

// The tiles of a row of panels of c, `columns` wide, from one panel of op(a) and the packed
// panels `pb`: ROWS rows (MR, or a short last panel's) read packed (constant strides) or where
// they lie; 16 columns a tile, and 8 or fewer in the last.
#define ROW_OF_TILES(name, RS, SS, ROWS)                                                               \
  AVX2 static void name(int64_t kc, const float *a, int64_t rs, int64_t ss, const float *pb, int64_t columns, \
                        float *c, int64_t ldc, float alpha, float beta) {                              \
    (void)rs; (void)ss;                                                                                \
    for (int64_t j = 0; j < columns; j += 16) {                                                        \
      if (columns - j > 8) {                                                                           \
        tile16_at(kc, a, RS, SS, pb + j * kc, c + j, ldc, ROWS, columns - j, alpha, beta, NULL);        \
      } else {                                                                                         \
        tile8_at(kc, a, RS, SS, pb + j * kc, c + j, ldc, ROWS, columns - j, alpha, beta, NULL);         \
      }                                                                                                \
    }                                                                                                  \
  }
ROW_OF_TILES(packed_row, 1, MR, MR)
ROW_OF_TILES(strided_row, rs, ss, MR)
#define SHORT_ROW(R) ROW_OF_TILES(packed_row##R, 1, MR, R)
SHORT_ROW(1) SHORT_ROW(2) SHORT_ROW(3) SHORT_ROW(4) SHORT_ROW(5)

typedef void (*RowOfTiles)(int64_t, const float *, int64_t, int64_t, const float *, int64_t, float *, int64_t,
                           float, float);
// A short last panel's kernel, by its rows.
static const RowOfTiles shortRows[MR] = {NULL, packed_row1, packed_row2, packed_row3, packed_row4, packed_row5};

// The tiles of one block panel by panel, for op(b) packed ahead (a layer's filters, which come
// from memory rather than from pack_b's L2): each panel serves every row of tiles while the
// first row fetches the next panel, a line a step.
AVX2 static void block_by_columns(int64_t kc, Rows a, const float *pb, int64_t rows, int64_t columns, float *c,
                                  int64_t ldc, float alpha, float beta) {
  for (int64_t j = 0; j < columns; j += 16) {
    const float *next = j + 16 < columns ? pb + (j + 16) * kc : NULL;
    int64_t i = 0;
    for (; i + MR <= rows; i += MR) {
      const float *fetch = i == 0 ? next : NULL;
      const float *a0 = a.at + i * kc;
      float *c0 = c + i * ldc;
      if (columns - j > 8) {
        tile16_at(kc, a0, 1, MR, pb + j * kc, c0 + j, ldc, MR, columns - j, alpha, beta, fetch);
      } else {
        tile8_at(kc, a0, 1, MR, pb + j * kc, c0 + j, ldc, MR, columns - j, alpha, beta, fetch);
      }
    }
    if (i < rows) {
      int64_t w = columns - j < 16 ? columns - j : 16;
      shortRows[rows - i](kc, a.at + i * kc, 1, MR, pb + j * kc, w, c + i * ldc + j, ldc, alpha, beta);
    }
  }
}

// c = alpha · tᵀ + beta · c for t [n × m] (row length m): 8×8 blocks turned in registers.
AVX2 static void store_turned(const float *t, int64_t m, int64_t n, float alpha, float beta, float *c, int64_t ldc) {
  for (int64_t j0 = 0; j0 < n; j0 += 8) {
    int64_t columns = n - j0 < 8 ? n - j0 : 8;
    for (int64_t i0 = 0; i0 < m; i0 += 8) {
      int64_t rows = m - i0 < 8 ? m - i0 : 8;
      const __m256i rowMask = first_lanes(rows);
      __m256 r[8];
      for (int64_t q = 0; q < 8; q++) {
        r[q] = q < columns ? _mm256_maskload_ps(t + (j0 + q) * m + i0, rowMask) : _mm256_setzero_ps();
      }
      transpose8(r);
      for (int64_t q = 0; q < rows; q++) store(r[q], c + (i0 + q) * ldc + j0, columns, alpha, beta);
    }
  }
}

#define ISA(name) name##_avx2
#define KERNEL AVX2
#include "matrix_product_driver.h"

#endif
