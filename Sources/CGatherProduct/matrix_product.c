// FedSim's own matrix product (matrix_product_driver.h), in AVX-512 where the CPU runs it
// (matrix_product_avx512.c) and else in AVX2 with FMA (matrix_product_avx2.c), chosen once per
// call by what the CPU has. Both pack op(b) in panels of 16 columns, so a filter packed by
// fedsim_pack_filter has one layout whichever runs.
#include "CGatherProduct.h"

#if defined(__x86_64__)

int fedsim_matrix_product_avx512(int32_t, int32_t, int64_t, int64_t, int64_t, float, const float *, int64_t,
                                 const float *, int64_t, float, float *, int64_t);
int fedsim_product_turns_avx512(int64_t, int64_t);
int fedsim_filter_product_turns_avx512(int64_t, int64_t, int32_t);
void fedsim_pack_filter_avx512(int32_t, int64_t, int64_t, const float *, int64_t, float *);
int fedsim_packed_product_avx512(int32_t, int64_t, int64_t, int64_t, const float *, int64_t, const float *, int64_t,
                                 int64_t, float, float *, int64_t, int32_t);
int fedsim_matrix_product_avx2(int32_t, int32_t, int64_t, int64_t, int64_t, float, const float *, int64_t,
                               const float *, int64_t, float, float *, int64_t);
int fedsim_product_turns_avx2(int64_t, int64_t);
int fedsim_filter_product_turns_avx2(int64_t, int64_t, int32_t);
void fedsim_pack_filter_avx2(int32_t, int64_t, int64_t, const float *, int64_t, float *);
int fedsim_packed_product_avx2(int32_t, int64_t, int64_t, int64_t, const float *, int64_t, const float *, int64_t,
                               int64_t, float, float *, int64_t, int32_t);

// AVX-512 where the panel kernel runs it (the CPU has AVX-512F, FEDSIM_NO_AVX512 unset).
static int wide(void) { return fedsim_panel_product_wide(); }

int fedsim_matrix_product_available(void) { return wide() || fedsim_gather_product_available(); }

int fedsim_matrix_product(int32_t transposeA, int32_t transposeB, int64_t m, int64_t n, int64_t k, float alpha,
                          const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                          int64_t ldc) {
  return (wide() ? fedsim_matrix_product_avx512 : fedsim_matrix_product_avx2)(
      transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int fedsim_product_turns(int64_t m, int64_t n) {
  return wide() ? fedsim_product_turns_avx512(m, n) : fedsim_product_turns_avx2(m, n);
}

int fedsim_filter_product_turns(int64_t m, int64_t n, int32_t transposed) {
  return wide() ? fedsim_filter_product_turns_avx512(m, n, transposed)
                : fedsim_filter_product_turns_avx2(m, n, transposed);
}

int64_t fedsim_packed_filter_count(int64_t k, int64_t n) { return (n + 15) / 16 * 16 * k; }

void fedsim_pack_filter(int32_t transposeB, int64_t k, int64_t n, const float *b, int64_t ldb, float *out) {
  (wide() ? fedsim_pack_filter_avx512 : fedsim_pack_filter_avx2)(transposeB, k, n, b, ldb, out);
}

int fedsim_packed_product(int32_t transposeA, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                          const float *packed, int64_t width, int64_t column, float beta, float *c, int64_t ldc,
                          int32_t turnC) {
  return (wide() ? fedsim_packed_product_avx512 : fedsim_packed_product_avx2)(
      transposeA, m, n, k, a, lda, packed, width, column, beta, c, ldc, turnC);
}

#else

int fedsim_matrix_product_available(void) { return 0; }

int fedsim_product_turns(int64_t m, int64_t n) { (void)m; (void)n; return 0; }

int fedsim_filter_product_turns(int64_t m, int64_t n, int32_t transposed) {
  (void)m; (void)n; (void)transposed;
  return 0;
}

int64_t fedsim_packed_filter_count(int64_t k, int64_t n) { (void)k; (void)n; return 0; }

void fedsim_pack_filter(int32_t transposeB, int64_t k, int64_t n, const float *b, int64_t ldb, float *out) {
  (void)transposeB; (void)k; (void)n; (void)b; (void)ldb; (void)out;
}

int fedsim_packed_product(int32_t transposeA, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                          const float *packed, int64_t width, int64_t column, float beta, float *c, int64_t ldc,
                          int32_t turnC) {
  (void)transposeA; (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)width; (void)column;
  (void)beta; (void)c; (void)ldc; (void)turnC;
  return -1;
}

int fedsim_matrix_product(int32_t transposeA, int32_t transposeB, int64_t m, int64_t n, int64_t k, float alpha,
                          const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                          int64_t ldc) {
  (void)transposeA; (void)transposeB; (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda; (void)b;
  (void)ldb; (void)beta; (void)c; (void)ldc;
  return -1;
}

#endif
