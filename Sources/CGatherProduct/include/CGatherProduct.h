#ifndef FEDSIM_GATHER_PRODUCT_H
#define FEDSIM_GATHER_PRODUCT_H

#include <stdint.h>

/// 1 when this CPU runs the AVX2/FMA kernel below, 0 otherwise (callers then use another path).
int fedsim_gather_product_available(void);

/// The product behind a direct convolution with channels along the lanes: for every row
/// i < rows and lane m < 16,
///
///     out[i * 16 + m] (+)= sum over j < reduction of in[rowOffsets[i] + reductionOffsets[j]] * v[j * 16 + m]
///
/// adding to `out` when `accumulate` is 1, overwriting it when 0. `in` is read only at the
/// offsets given (each sum of offsets must lie inside it); `v` holds 16 lanes per reduction step
/// (zeros in lanes the caller does not use). Runs only where fedsim_gather_product_available()
/// returned 1.
void fedsim_gather_product16(
    const float *in, const int32_t *rowOffsets, int32_t rows, const int32_t *reductionOffsets,
    int32_t reduction, const float *v, float *out, int32_t accumulate);

/// The same with positions along the lanes: 16 consecutive elements of `in` per row and step,
///
///     out[i * 16 + l] (+)= sum over j < reduction of in[rowOffsets[i] + reductionOffsets[j] + l] * w[j]
///
/// for a layer with too few channels to fill the lanes (each window of 16 must lie inside `in`).
void fedsim_window_product16(
    const float *in, const int32_t *rowOffsets, int32_t rows, const int32_t *reductionOffsets,
    int32_t reduction, const float *w, float *out, int32_t accumulate);

/// A matrix product with 16 columns: for every row i < rows and column m < 16,
///
///     c[i * ldc + m] (+)= sum over j < reduction of a[i * rowStride + j * stepStride] * b[j * ldb + m]
///
/// adding to `c` when `accumulate` is 1, overwriting it when 0. `a` is read where it lies, as it
/// lies or transposed (no packing). Runs only where fedsim_gather_product_available() returned 1.
/// 1 when fedsim_panel_product16 runs twelve rows at a time in AVX-512 (the CPU has AVX-512F and
/// FEDSIM_NO_AVX512 is unset), 0 when six at a time in AVX2. The sums are the same either way:
/// each lane adds the same products in the same order, by FMA.
int fedsim_panel_product_wide(void);

/// 1 when the CPU is Intel's (cpuid's vendor), 0 otherwise: some kernel choices that were
/// measured per vendor (Winograd's at few tiles: Sources/Tensors/Kernels/Winograd.swift).
int fedsim_cpu_is_intel(void);

void fedsim_panel_product16(
    const float *a, int64_t rowStride, int64_t stepStride, int32_t rows, const float *b, int32_t ldb,
    int32_t reduction, float *c, int32_t ldc, int32_t accumulate);

/// fedsim_panel_product16 (overwriting) for two panels at once that share `a`: `b` into `c`
/// and `bNext` into `cNext`, with the same sums. Where the CPU has AVX-512 each value of `a` is
/// read once for both.
void fedsim_panel_product16_pair(
    const float *a, int64_t rowStride, int64_t stepStride, int32_t rows, const float *b, const float *bNext,
    int32_t ldb, int32_t reduction, float *c, float *cNext, int32_t ldc);

/// Winograd F(2×2, 3×3)'s `G g Gᵀ` of filters `first ..< first + n` of `w` (3×3 each, row-major)
/// into `u` [16, count]: element ξ of filter f at u[ξ · count + f]. Sixteen filters at a time
/// in AVX-512, the same values bit for bit as Winograd.filterTransform's eight lanes. Runs only
/// where fedsim_panel_product_wide() returned 1.
void fedsim_winograd_filter_transform16(const float *w, int64_t first, int64_t n, int64_t count, float *u);
/// The same eight filters at a time in AVX2 with FMA, the same values. Runs only where
/// fedsim_gather_product_available() returned 1.
void fedsim_winograd_filter_transform8(const float *w, int64_t first, int64_t n, int64_t count, float *u);

/// Winograd F(2×2, 3×3)'s `Bᵀ d B` of a run of `count` (1 to 16) consecutive tiles, the rows of
/// the first tile's 4×4 input block at d + r·columns (tile k's two columns on): element ξ of tile
/// k into at[ξ · spread + k]. Reads 34 columns of four rows where `room` (the columns from d to
/// the row's end) holds them, else the 2·count + 2 the run covers; writes `count` lanes of 16
/// planes. Runs only where fedsim_panel_product_wide() returned 1.
void fedsim_winograd_input_run16(
    const float *d, int64_t columns, int32_t room, int32_t count, float *at, int64_t spread);

/// Winograd F(2×2, 3×3)'s `Aᵀ m A` of a run of `count` (1 to 16) consecutive tiles, element ξ of
/// tile k at m[ξ · spread + k]: the first `columns` (≤ 2·count) columns of the two output rows,
/// into row0 and, unless NULL, row1. Reads sixteen lanes of each plane from m on (a Winograd
/// panel's next row, or the gap after it, past a short run). Runs only where
/// fedsim_panel_product_wide() returned 1.
void fedsim_winograd_output_run16(
    const float *m, int64_t spread, int32_t count, float *row0, float *row1, int32_t columns);

/// Winograd F(4×4, 3×3)'s transforms sixteen lanes at a time in AVX-512 (winograd4_transforms.c):
/// the filters' `G g Gᵀ` into `u` [36, count]; `Bᵀ d B` of a run of `count` (1 to 16) tiles
/// four columns apart, row r of the first block at d + r·columns (68 floats of each row read,
/// past its end into the next row or the caller's room after the last), into 36 planes
/// `spread` apart, `count` lanes written; and `Aᵀ m A` of a run's 36 products into its 4×4
/// output blocks, the first `rows` rows (`ld` apart) and `columns` columns. Run only where
/// fedsim_panel_product_wide() returned 1.
void fedsim_winograd4_filter_transform16(const float *w, int64_t first, int64_t n, int64_t count, float *u);
void fedsim_winograd4_input_run16(const float *d, int64_t columns, int32_t count, float *at, int64_t spread);
void fedsim_winograd4_output_run16(
    const float *m, int64_t spread, float *y, int64_t ld, int32_t rows, int32_t columns);

/// The same three eight lanes at a time in AVX2 with FMA (winograd4_transforms_avx2.c), the same
/// values: runs of 1 to 8 tiles, 36 floats of each input row read from its start. Run only where
/// fedsim_gather_product_available() returned 1.
void fedsim_winograd4_filter_transform8(const float *w, int64_t first, int64_t n, int64_t count, float *u);
void fedsim_winograd4_input_run8(const float *d, int64_t columns, int32_t count, float *at, int64_t spread);
void fedsim_winograd4_output_run8(
    const float *m, int64_t spread, float *y, int64_t ld, int32_t rows, int32_t columns);

/// Max pooling's choices over one h×w plane: for each of the oh×ow windows (kernel×kernel,
/// `stride` apart, starting `padding` before the plane, the padding left out), the position
/// r·w + c of its largest element as a float: the first of equals in row-major order, the last
/// NaN if any. Runs only where fedsim_gather_product_available() returned 1.
void fedsim_max_positions(const float *p, int32_t h, int32_t w, int32_t kernel, int32_t stride,
                          int32_t padding, int32_t oh, int32_t ow, float *into);

/// 1 when fedsim_matrix_product runs on this CPU: in AVX-512 where it has AVX-512F and
/// FEDSIM_NO_AVX512 is unset, else in AVX2 where it has AVX2 and FMA (matrix_product.c).
int fedsim_matrix_product_available(void);

/// c = alpha · op(a) · op(b) + beta · c, row-major, on the calling thread, as cblas_sgemm
/// computes it: op(a) is m×k (a as stored, or transposed when transposeA is 1) and op(b) k×n;
/// lda, ldb and ldc are the row lengths as stored. When beta is 0, c is not read. Returns 0, or
/// -1 (c untouched) when a dimension is not positive or the packing buffers cannot be had; runs
/// only where fedsim_matrix_product_available() returned 1.
int fedsim_matrix_product(int32_t transposeA, int32_t transposeB, int64_t m, int64_t n, int64_t k, float alpha,
                          const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                          int64_t ldc);

/// 1 when fedsim_matrix_product computes an m×n c turned (cᵀ, then turned back): c's columns
/// would fill the vectors worse than its rows fill the panels.
int fedsim_product_turns(int64_t m, int64_t n);

/// 1 when a layer's filters op(w) (m×k: w as stored, or transposed when `transposed` is 1)
/// times n columns go turned through fedsim_packed_product: where fedsim_product_turns(m, n),
/// and where wᵀ with few columns would be read where it lies and turning issues no more FMAs.
int fedsim_filter_product_turns(int64_t m, int64_t n, int32_t transposed);

/// The floats fedsim_pack_filter writes for an op(b) of k×n.
int64_t fedsim_packed_filter_count(int64_t k, int64_t n);

/// Packs all of op(b) (k×n: b as stored, or transposed when transposeB is 1; ldb its row
/// length) into `out` (64-byte aligned) as fedsim_matrix_product packs it a block at a time, for
/// products that read the same op(b) again (a layer's filters). Only where
/// fedsim_matrix_product_available().
void fedsim_pack_filter(int32_t transposeB, int64_t k, int64_t n, const float *b, int64_t ldb, float *out);

/// t = op(a) · op(b)[:, column ..< column + n], op(b) (`width` columns) packed by
/// fedsim_pack_filter, `column` a multiple of 16; stored as c = t + beta · c, or with `turnC` as
/// c = tᵀ + beta · c (c n×m). The sums are fedsim_matrix_product's, element for element. Returns
/// 0, or -1 (c untouched) for a dimension not positive, a column not a multiple of 16, `packed`
/// not 64-byte aligned, or no scratch.
int fedsim_packed_product(int32_t transposeA, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                          const float *packed, int64_t width, int64_t column, float beta, float *c, int64_t ldc,
                          int32_t turnC);

/// The time, in ns, a write on one of the first two CPUs this process may use takes to be seen on
/// the other: two threads, one held to each, pass a counter `passes` times each way through one
/// cache line (core_latency.c), or fewer when `limit_ns` of wall time have passed first (on a
/// loaded machine each pass waits for the scheduler): the mean over the passes made, whose count
/// goes to `made` (when not NULL). -1 when the process has fewer than two CPUs or a thread could
/// not be started or held to its CPU. One call at a time.
double fedsim_core_latency(int32_t passes, int64_t limit_ns, int64_t *made);

/// How many times one CPU's FMAs the first two CPUs this process may use issue together: an FMA
/// loop on the first alone for `duration_ns`, then on both at once, each thread held to its CPU
/// (core_sharing.c). About 2 on two whole cores, about 1 where the two share one core (two
/// hyperthreads, or virtual CPUs the host runs on one). -1 with fewer than two CPUs, without AVX2
/// and FMA, or when a thread could not be started or held to its CPU.
double fedsim_core_sharing(int64_t duration_ns);

#endif
