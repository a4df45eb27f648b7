// A general matrix product in AVX-512 for CPUs that run 512-bit FMAs (Zen 5, Sapphire Rapids),
// where the OpenBLAS this project gets may be held to its AVX2 kernels. The scheme is the usual
// one (Goto and van de Geijn, "Anatomy of high-performance matrix multiplication", 2008, as in
// BLIS): op(a) is packed KC columns at a time into panels of MR rows (the broadcast side, kept in
// L1 across a row of tiles), op(b) KC rows by NCV columns at a time into panels of 16 columns
// (the vector side, kept in L2), and an MR×32 tile of c lives in 24 registers while KC steps
// of broadcast-times-vector FMAs run. Edges are zero-padded in the packs and masked on store.
// One thread a call: FedSim's callers cut products between their threads.
#include "CGatherProduct.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define AVX512 __attribute__((target("avx512f")))

enum { MR = 12, KC = 256, NCV = 512, MCB = 1536 };

int fedsim_matrix_product_available(void) {
  static int available = -1;  // the first callers may race to set it, to the same value
  int known = __atomic_load_n(&available, __ATOMIC_RELAXED);
  if (known >= 0) return known;
  __builtin_cpu_init();
  known = __builtin_cpu_supports("avx512f") && getenv("FEDSIM_NO_AVX512") == NULL;
  __atomic_store_n(&available, known, __ATOMIC_RELAXED);
  return known;
}

// Each thread's packing buffers, grown on demand and kept for its next products.
static _Thread_local float *packedA, *packedB;
static _Thread_local size_t capacityA, capacityB;

static float *reserve(float **buffer, size_t *capacity, size_t count) {
  if (count <= *capacity) return *buffer;
  free(*buffer);
  size_t bytes = (count * sizeof(float) + 63) & ~(size_t)63;
  *buffer = aligned_alloc(64, bytes);
  *capacity = *buffer ? count : 0;
  return *buffer;
}

// Rows [row, row + rows) and steps [step, step + kc) of op(a) into panels of MR rows, step-major
// within a panel (MR values a step), rows past the end zero.
static void pack_a(const float *a, int64_t lda, int transposed, int64_t row, int64_t rows, int64_t step,
                   int64_t kc, float *out) {
  for (int64_t r0 = 0; r0 < rows; r0 += MR, out += MR * kc) {
    int64_t valid = rows - r0 < MR ? rows - r0 : MR;
    if (valid < MR) memset(out, 0, sizeof(float) * MR * (size_t)kc);
    if (transposed) {  // op(a)[i][p] = a[p * lda + i]: a step's rows lie together
      for (int64_t p = 0; p < kc; p++) {
        memcpy(out + p * MR, a + (step + p) * lda + row + r0, sizeof(float) * (size_t)valid);
      }
    } else {
      for (int64_t i = 0; i < valid; i++) {
        const float *source = a + (row + r0 + i) * lda + step;
        for (int64_t p = 0; p < kc; p++) out[p * MR + i] = source[p];
      }
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
    } else {  // op(b)[p][j] = b[j * ldb + p]: a column's steps lie together
      if (valid < 16) memset(out, 0, sizeof(float) * 16 * (size_t)kc);
      for (int64_t j = 0; j < valid; j++) {
        const float *source = b + (column + j0 + j) * ldb + step;
        for (int64_t p = 0; p < kc; p++) out[16 * p + j] = source[p];
      }
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

#define FMA1(r) c##r##0 = _mm512_fmadd_ps(_mm512_set1_ps(ap[r]), b0, c##r##0);
#define ZERO2(r) __m512 c##r##0 = _mm512_setzero_ps(), c##r##1 = _mm512_setzero_ps();
#define ZERO1(r) __m512 c##r##0 = _mm512_setzero_ps();
#define EACH(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11)

// The masks of a tile's two vectors of 16 columns when `columns` of them are valid.
static inline __mmask16 lanes(int columns) {
  return columns >= 16 ? 0xFFFF : columns <= 0 ? 0 : (__mmask16)((1u << columns) - 1);
}

// An MR×32 tile: `a` one packed panel of MR rows, `b` two adjacent packed panels of 16 columns
// (zero past the last column). Only the first `rows` rows and `columns` columns are stored.
AVX512 static void tile32(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int rows, int columns,
                          float alpha, float beta) {
  EACH(ZERO2)
  const float *b1 = b + 16 * kc, *ap = a;
  for (int64_t p = 0; p < kc; p++, ap += MR) {
    const __m512 b0 = _mm512_load_ps(b + 16 * p), b1p = _mm512_load_ps(b1 + 16 * p);
#define FMA2(r) \
  { __m512 x = _mm512_set1_ps(ap[r]); c##r##0 = _mm512_fmadd_ps(x, b0, c##r##0); c##r##1 = _mm512_fmadd_ps(x, b1p, c##r##1); }
    EACH(FMA2)
  }
  const __m512 alphas = _mm512_set1_ps(alpha), betas = _mm512_set1_ps(beta);
  const __mmask16 m0 = lanes(columns), m1 = lanes(columns - 16);
#define STORE2(r) STORE_ROW(r, c##r##0, m0, 0) STORE_ROW(r, c##r##1, m1, 16)
  EACH(STORE2)
}

// An MR×16 tile, for the last 16 or fewer columns.
AVX512 static void tile16(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int rows, int columns,
                          float alpha, float beta) {
  EACH(ZERO1)
  const float *ap = a;
  for (int64_t p = 0; p < kc; p++, ap += MR) {
    const __m512 b0 = _mm512_load_ps(b + 16 * p);
    EACH(FMA1)
  }
  const __m512 alphas = _mm512_set1_ps(alpha), betas = _mm512_set1_ps(beta);
  const __mmask16 m0 = lanes(columns);
#define STORE1(r) STORE_ROW(r, c##r##0, m0, 0)
  EACH(STORE1)
}

// The tiles of one packed block: rows × columns of c from `pa` (MR-row panels) and `pb`
// (16-column panels), kc steps.
AVX512 static void block(int64_t kc, const float *pa, const float *pb, int64_t rows, int64_t columns, float *c,
                         int64_t ldc, float alpha, float beta) {
  for (int64_t i = 0; i < rows; i += MR) {
    const float *a = pa + i * kc;
    int r = (int)(rows - i < MR ? rows - i : MR);
    int64_t j = 0;
    for (; j + 16 < columns; j += 32) {
      int w = (int)(columns - j < 32 ? columns - j : 32);
      tile32(kc, a, pb + j * kc, c + i * ldc + j, ldc, r, w, alpha, beta);
    }
    if (j < columns) tile16(kc, a, pb + j * kc, c + i * ldc + j, ldc, r, (int)(columns - j), alpha, beta);
  }
}

int fedsim_matrix_product(int32_t transposeA, int32_t transposeB, int64_t m, int64_t n, int64_t k, float alpha,
                          const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                          int64_t ldc) {
  if (m <= 0 || n <= 0 || k <= 0) return -1;  // the caller handles empty products
  int64_t mcb = m < MCB ? m : MCB, ncv = n < NCV ? n : NCV;
  int64_t kc0 = k < KC ? k : KC;
  float *pa = reserve(&packedA, &capacityA, (size_t)((mcb + MR - 1) / MR * MR) * (size_t)kc0);
  float *pb = reserve(&packedB, &capacityB, (size_t)((ncv + 15) / 16 * 16) * (size_t)kc0);
  if (!pa || !pb) return -1;
  for (int64_t i = 0; i < m; i += MCB) {
    int64_t rows = m - i < MCB ? m - i : MCB;
    for (int64_t p = 0; p < k; p += KC) {
      int64_t kc = k - p < KC ? k - p : KC;
      float stepBeta = p == 0 ? beta : 1;
      pack_a(a, lda, transposeA, i, rows, p, kc, pa);
      for (int64_t j = 0; j < n; j += NCV) {
        int64_t columns = n - j < NCV ? n - j : NCV;
        pack_b(b, ldb, transposeB, p, kc, j, columns, pb);
        block(kc, pa, pb, rows, columns, c + i * ldc + j, ldc, alpha, stepBeta);
      }
    }
  }
  return 0;
}

#else

int fedsim_matrix_product_available(void) { return 0; }

int fedsim_matrix_product(int32_t transposeA, int32_t transposeB, int64_t m, int64_t n, int64_t k, float alpha,
                          const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                          int64_t ldc) {
  (void)transposeA; (void)transposeB; (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda; (void)b;
  (void)ldb; (void)beta; (void)c; (void)ldc;
  return -1;
}

#endif
