// A matrix product with 16 columns, the shape of Winograd's products over a block of 16 tiles
// (Sources/Tensors/Kernels/Winograd+Products.swift): the left matrix is read where it lies,
// with no packing, and the right one (16 columns of the reduction) stays in the first caches.
// Six rows at a time: twelve accumulators of eight lanes in registers. Compiled for baseline
// x86-64 and dispatched at run time (fedsim_gather_product_available).
#include "CGatherProduct.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>

#define AVX2 __attribute__((target("avx2,fma")))

#define START(r)                                                                    \
  __m256 c##r##0 = accumulate ? _mm256_loadu_ps(c + r * ldc) : _mm256_setzero_ps();     \
  __m256 c##r##1 = accumulate ? _mm256_loadu_ps(c + r * ldc + 8) : _mm256_setzero_ps();

#define STORE(r)                                                                    \
  _mm256_storeu_ps(c + r * ldc, c##r##0);                                           \
  _mm256_storeu_ps(c + r * ldc + 8, c##r##1);

#define PREFETCH 8

#define STEP(r)                                                                     \
  x = _mm256_broadcast_ss(p + r * rowStride);                                       \
  c##r##0 = _mm256_fmadd_ps(x, b0, c##r##0);                                        \
  c##r##1 = _mm256_fmadd_ps(x, b1, c##r##1);

// Rows 0..5 of `a` start `rowStride` apart and step `stepStride` along the reduction. `next`
// (not 0): at each step also fetch the float `next` on from the step's first, a line that
// later rows will read (see by_six).
AVX2 static inline __attribute__((always_inline)) void six_rows_fetching(
    const float *a, ptrdiff_t rowStride, ptrdiff_t stepStride, const float *b, int32_t ldb, int32_t reduction,
    float *c, int32_t ldc, int32_t accumulate, ptrdiff_t next) {
  START(0) START(1) START(2) START(3) START(4) START(5)
  const float *p = a;
  for (int32_t j = 0; j < reduction; j++, p += stepStride) {
    const float *row = b + (size_t)j * (size_t)ldb;
    // Fetch ahead: rows of b `ldb` apart. Winograd's panels are contiguous (ldb 16), where this
    // costs next to nothing; far-apart rows the hardware would not follow.
    _mm_prefetch((const char *)(row + PREFETCH * (size_t)ldb), _MM_HINT_T0);
    if (next) _mm_prefetch((const char *)(p + next), _MM_HINT_T0);
    const __m256 b0 = _mm256_loadu_ps(row), b1 = _mm256_loadu_ps(row + 8);
    __m256 x;
    STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5)
  }
  STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5)
}

AVX2 static void six_rows(
    const float *a, ptrdiff_t rowStride, ptrdiff_t stepStride, const float *b, int32_t ldb, int32_t reduction,
    float *c, int32_t ldc, int32_t accumulate) {
  six_rows_fetching(a, rowStride, stepStride, b, ldb, reduction, c, ldc, accumulate, 0);
}

// Six rows lying together (rowStride 1), fetching the rows `next` on.
AVX2 static void six_rows_together(
    const float *a, ptrdiff_t stepStride, const float *b, int32_t ldb, int32_t reduction, float *c, int32_t ldc,
    int32_t accumulate, ptrdiff_t next) {
  six_rows_fetching(a, 1, stepStride, b, ldb, reduction, c, ldc, accumulate, next);
}

// The same with AVX-512: a row's 16 lanes are one register, twelve rows at a time (twelve
// accumulators). Where the cores run 512-bit FMAs at full width (Zen 5 here) that is twice the
// lanes a cycle.
#define AVX512 __attribute__((target("avx512f")))

// Steps ahead that twelve_rows and rows_pair fetch filters read transposed.
enum { FETCH_STEPS = 16 };

// Rows lying together (the filters read transposed, for an input gradient) take a line
// `stepStride` floats on at every step, which the hardware does not fetch ahead in time: the
// kernels fetch the `rows` values FETCH_STEPS steps ahead, `ahead` floats on from `p` (0: rows
// apart, which the hardware follows). Inception-v3's 448 → 384 input gradient over 2×8×8 (the
// pair kernel) went 35 → 22 ms an evaluation on an Intel Xeon, its forward pass 12; ResNet-18's
// 512 → 512 over 7×7 (one block, twelve_rows) 46–58 → 24–27 on Zen 4.
static inline __attribute__((always_inline)) ptrdiff_t fetch_distance(ptrdiff_t rowStride, ptrdiff_t stepStride) {
  return rowStride == 1 ? FETCH_STEPS * stepStride : 0;
}

static inline __attribute__((always_inline)) void fetch_ahead(const float *p, ptrdiff_t ahead, int rows) {
  if (ahead) {
    _mm_prefetch((const char *)(p + ahead), _MM_HINT_T0);
    _mm_prefetch((const char *)(p + ahead + rows - 1), _MM_HINT_T0);
  }
}

#define START16(r) __m512 c##r = accumulate ? _mm512_loadu_ps(c + r * ldc) : _mm512_setzero_ps();
#define STORE16(r) _mm512_storeu_ps(c + r * ldc, c##r);
#define STEP16(r) c##r = _mm512_fmadd_ps(_mm512_set1_ps(p[r * rowStride]), b0, c##r);

AVX512 static void twelve_rows(
    const float *a, ptrdiff_t rowStride, ptrdiff_t stepStride, const float *b, int32_t ldb, int32_t reduction,
    float *c, int32_t ldc, int32_t accumulate) {
  START16(0) START16(1) START16(2) START16(3) START16(4) START16(5)
  START16(6) START16(7) START16(8) START16(9) START16(10) START16(11)
  const float *p = a;
  const ptrdiff_t ahead = fetch_distance(rowStride, stepStride);
  for (int32_t j = 0; j < reduction; j++, p += stepStride) {
    const float *row = b + (size_t)j * (size_t)ldb;
    _mm_prefetch((const char *)(row + PREFETCH * (size_t)ldb), _MM_HINT_T0);
    fetch_ahead(p, ahead, 12);
    const __m512 b0 = _mm512_loadu_ps(row);
    STEP16(0) STEP16(1) STEP16(2) STEP16(3) STEP16(4) STEP16(5)
    STEP16(6) STEP16(7) STEP16(8) STEP16(9) STEP16(10) STEP16(11)
  }
  STORE16(0) STORE16(1) STORE16(2) STORE16(3) STORE16(4) STORE16(5)
  STORE16(6) STORE16(7) STORE16(8) STORE16(9) STORE16(10) STORE16(11)
}

// Sixteen rows lying together (rowStride 1: the filters read transposed, for an input
// gradient): each step's sixteen values are one cache line where the filters' rows start on
// one, where twelve rows a step straddle two lines every other panel and each line is fetched
// twice, a panel apart (ResNet-18's 512 → 512 over 7×7, one block, read its 16 MiB of
// transformed filters that way: its input gradient took 18–19 ms an evaluation on Zen 5, its
// forward pass 11; sixteen rows, 15–17).
// Each lane's sum is the same as twelve_rows gives.
AVX512 static void sixteen_rows(
    const float *a, ptrdiff_t stepStride, const float *b, int32_t ldb, int32_t reduction, float *c, int32_t ldc,
    int32_t accumulate) {
  const ptrdiff_t rowStride = 1;
  START16(0) START16(1) START16(2) START16(3) START16(4) START16(5) START16(6) START16(7)
  START16(8) START16(9) START16(10) START16(11) START16(12) START16(13) START16(14) START16(15)
  const float *p = a;
  const ptrdiff_t ahead = fetch_distance(rowStride, stepStride);
  for (int32_t j = 0; j < reduction; j++, p += stepStride) {
    const float *row = b + (size_t)j * (size_t)ldb;
    _mm_prefetch((const char *)(row + PREFETCH * (size_t)ldb), _MM_HINT_T0);
    fetch_ahead(p, ahead, 16);
    const __m512 b0 = _mm512_loadu_ps(row);
    STEP16(0) STEP16(1) STEP16(2) STEP16(3) STEP16(4) STEP16(5) STEP16(6) STEP16(7)
    STEP16(8) STEP16(9) STEP16(10) STEP16(11) STEP16(12) STEP16(13) STEP16(14) STEP16(15)
  }
  STORE16(0) STORE16(1) STORE16(2) STORE16(3) STORE16(4) STORE16(5) STORE16(6) STORE16(7)
  STORE16(8) STORE16(9) STORE16(10) STORE16(11) STORE16(12) STORE16(13) STORE16(14) STORE16(15)
}

// Two panels at once: up to twelve rows by 32 columns (24 accumulators), each broadcast of `a`
// used for both panels, so that `a` (a Winograd plane's filters, read where they lie from the
// second cache) is read half as often per product. Each lane's sum is the same as twelve_rows
// gives. `rows` is a constant where this is inlined: a short last panel issues its own rows only.
#define START32(r) __m512 c##r = _mm512_setzero_ps(), d##r = _mm512_setzero_ps();
#define STORE32(r) if (r < rows) { _mm512_storeu_ps(c + r * ldc, c##r); _mm512_storeu_ps(cNext + r * ldc, d##r); }
#define STEP32(r) \
  if (r < rows) { __m512 x = _mm512_set1_ps(p[r * rowStride]); c##r = _mm512_fmadd_ps(x, b0, c##r); d##r = _mm512_fmadd_ps(x, b1, d##r); }

AVX512 static inline __attribute__((always_inline)) void rows_pair(
    const float *a, ptrdiff_t rowStride, ptrdiff_t stepStride, const float *b, const float *bNext, int32_t ldb,
    int32_t reduction, float *c, float *cNext, int32_t ldc, const int rows) {
  START32(0) START32(1) START32(2) START32(3) START32(4) START32(5)
  START32(6) START32(7) START32(8) START32(9) START32(10) START32(11)
  const float *p = a;
  const ptrdiff_t ahead = fetch_distance(rowStride, stepStride);
  for (int32_t j = 0; j < reduction; j++, p += stepStride) {
    fetch_ahead(p, ahead, rows);
    const __m512 b0 = _mm512_loadu_ps(b + (size_t)j * (size_t)ldb), b1 = _mm512_loadu_ps(bNext + (size_t)j * (size_t)ldb);
    STEP32(0) STEP32(1) STEP32(2) STEP32(3) STEP32(4) STEP32(5)
    STEP32(6) STEP32(7) STEP32(8) STEP32(9) STEP32(10) STEP32(11)
  }
  STORE32(0) STORE32(1) STORE32(2) STORE32(3) STORE32(4) STORE32(5)
  STORE32(6) STORE32(7) STORE32(8) STORE32(9) STORE32(10) STORE32(11)
}

#define ROWS_PAIR(name, R)                                                                                         \
  AVX512 static void name(const float *a, ptrdiff_t rowStride, ptrdiff_t stepStride, const float *b,             \
                          const float *bNext, int32_t ldb, int32_t reduction, float *c, float *cNext, int32_t ldc) { \
    rows_pair(a, rowStride, stepStride, b, bNext, ldb, reduction, c, cNext, ldc, R);                              \
  }
ROWS_PAIR(twelve_rows_pair, 12)
ROWS_PAIR(rows_pair1, 1) ROWS_PAIR(rows_pair2, 2) ROWS_PAIR(rows_pair3, 3) ROWS_PAIR(rows_pair4, 4)
ROWS_PAIR(rows_pair5, 5) ROWS_PAIR(rows_pair6, 6) ROWS_PAIR(rows_pair7, 7) ROWS_PAIR(rows_pair8, 8)
ROWS_PAIR(rows_pair9, 9) ROWS_PAIR(rows_pair10, 10) ROWS_PAIR(rows_pair11, 11)

typedef void (*RowsPair)(const float *, ptrdiff_t, ptrdiff_t, const float *, const float *, int32_t, int32_t, float *,
                         float *, int32_t);
// A short last panel's kernel, by its rows.
static const RowsPair shortPairs[12] = {
  NULL, rows_pair1, rows_pair2, rows_pair3, rows_pair4, rows_pair5, rows_pair6,
  rows_pair7, rows_pair8, rows_pair9, rows_pair10, rows_pair11,
};

int fedsim_panel_product_wide(void) {
  static int wide = -1;  // the first callers may race to set it, to the same value
  int known = __atomic_load_n(&wide, __ATOMIC_RELAXED);
  if (known >= 0) return known;
  __builtin_cpu_init();
  known = __builtin_cpu_supports("avx512f") && getenv("FEDSIM_NO_AVX512") == NULL;
  __atomic_store_n(&wide, known, __ATOMIC_RELAXED);
  return known;
}

// Rows by six through AVX2. Rows lying together (rowStride 1: the filters read transposed, for
// an input gradient) take a line `stepStride` floats on at every step, more than a page on for
// ResNet-18's 512 channels, so the hardware does not fetch them ahead; each line holds sixteen
// rows' values of a step, read by the three runs of six that follow. So each run fetches, at
// every step, the line of the next sixteen rows, a run or more before it is read. Zen 3,
// ResNet-18's 512 → 512 input gradients over 7×7 (16 MiB of transformed filters a layer, read
// from memory), alternated in one loop: 80–109 → 59–90 ms an evaluation. Fetching 16 steps
// ahead within the run, as the AVX-512 kernels do (`fetch_ahead`), gained nothing here: those
// lines are the run's own, and the fetch comes too late. (Where `a` does not start a line, the
// line fetched is the one holding row `i + next`, still ahead of its first read.)
static void by_six(
    const float *a, int64_t rowStride, int64_t stepStride, int32_t rows, const float *b, int32_t ldb,
    int32_t reduction, float *c, int32_t ldc, int32_t accumulate) {
  int32_t i = 0;
  for (; i + 6 <= rows; i += 6) {
    float *at = c + (size_t)i * (size_t)ldc;
    const int32_t next = 16 * (i / 16 + 1) - i;  // floats to the next sixteen rows' line
    if (rowStride == 1 && i + next < rows) {
      six_rows_together(a + i, stepStride, b, ldb, reduction, at, ldc, accumulate, next);
    } else {
      six_rows(a + i * rowStride, rowStride, stepStride, b, ldb, reduction, at, ldc, accumulate);
    }
  }
  if (i == rows) return;
  if (rows >= 6 && !accumulate) {  // the last 1 to 5 rows: the last six again, overwriting
    i = rows - 6;
    six_rows(a + i * rowStride, rowStride, stepStride, b, ldb, reduction, c + (size_t)i * (size_t)ldc, ldc, 0);
    return;
  }
  // Else one at a time through a scratch tile (row stride 0: all six read that row).
  for (; i < rows; i++) {
    float tile[6 * 16];
    memset(tile, 0, sizeof tile);
    if (accumulate) memcpy(tile, c + (size_t)i * (size_t)ldc, sizeof(float) * 16);
    six_rows(a + i * rowStride, 0, stepStride, b, ldb, reduction, tile, 16, accumulate);
    memcpy(c + (size_t)i * (size_t)ldc, tile, sizeof(float) * 16);
  }
}

void fedsim_panel_product16(
    const float *a, int64_t rowStride, int64_t stepStride, int32_t rows, const float *b, int32_t ldb,
    int32_t reduction, float *c, int32_t ldc, int32_t accumulate) {
  if (!fedsim_panel_product_wide() || rows < 12) {
    by_six(a, rowStride, stepStride, rows, b, ldb, reduction, c, ldc, accumulate);
    return;
  }
  int32_t i = 0;
  if (rowStride == 1) {  // rows lying together: sixteen at a time, one line a step
    for (; i + 16 <= rows; i += 16) {
      sixteen_rows(a + i, stepStride, b, ldb, reduction, c + (size_t)i * (size_t)ldc, ldc, accumulate);
    }
    if (i == rows) return;
    if (!accumulate && rows >= 16) {  // the last 1 to 15 rows: the last sixteen again, overwriting
      i = rows - 16;
      sixteen_rows(a + i, stepStride, b, ldb, reduction, c + (size_t)i * (size_t)ldc, ldc, 0);
      return;
    }
  }
  for (; i + 12 <= rows; i += 12) {
    twelve_rows(a + i * rowStride, rowStride, stepStride, b, ldb, reduction, c + (size_t)i * (size_t)ldc, ldc, accumulate);
  }
  if (i == rows) return;
  if (!accumulate) {  // the last 1 to 11 rows: the last twelve again, overwriting
    i = rows - 12;
    twelve_rows(a + i * rowStride, rowStride, stepStride, b, ldb, reduction, c + (size_t)i * (size_t)ldc, ldc, 0);
    return;
  }
  by_six(a + i * rowStride, rowStride, stepStride, rows - i, b, ldb, reduction, c + (size_t)i * (size_t)ldc, ldc, accumulate);
}

void fedsim_panel_product16_pair(
    const float *a, int64_t rowStride, int64_t stepStride, int32_t rows, const float *b, const float *bNext,
    int32_t ldb, int32_t reduction, float *c, float *cNext, int32_t ldc) {
  if (!fedsim_panel_product_wide() || rows < 12) {
    by_six(a, rowStride, stepStride, rows, b, ldb, reduction, c, ldc, 0);
    by_six(a, rowStride, stepStride, rows, bNext, ldb, reduction, cNext, ldc, 0);
    return;
  }
  for (int32_t i = 0; i < rows; i += 12) {
    size_t at = (size_t)i * (size_t)ldc;
    RowsPair panel = rows - i >= 12 ? twelve_rows_pair : shortPairs[rows - i];
    panel(a + i * rowStride, rowStride, stepStride, b, bNext, ldb, reduction, c + at, cNext + at, ldc);
  }
}

#else

int fedsim_panel_product_wide(void) { return 0; }

void fedsim_panel_product16_pair(
    const float *a, int64_t rowStride, int64_t stepStride, int32_t rows, const float *b, const float *bNext,
    int32_t ldb, int32_t reduction, float *c, float *cNext, int32_t ldc) {
  (void)a; (void)rowStride; (void)stepStride; (void)rows; (void)b; (void)bNext; (void)ldb; (void)reduction;
  (void)c; (void)cNext; (void)ldc;
}

void fedsim_panel_product16(
    const float *a, int64_t rowStride, int64_t stepStride, int32_t rows, const float *b, int32_t ldb,
    int32_t reduction, float *c, int32_t ldc, int32_t accumulate) {
  (void)a; (void)rowStride; (void)stepStride; (void)rows; (void)b; (void)ldb; (void)reduction; (void)c; (void)ldc; (void)accumulate;
}

#endif
