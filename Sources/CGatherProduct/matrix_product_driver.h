// The product's driver, shared by matrix_product_avx512.c and matrix_product_avx2.c: the
// blocking over rows, steps and columns, turning c, and the entry points, named by ISA(name).
// Each includes it after its kernels: MR, KC, NCV, MCB and LANES (the floats in one vector),
// KERNEL (its target attribute), pack_a, pack_b, packed_row, strided_row, shortRows,
// block_by_columns and store_turned. Panels of op(b) are 16 columns wide
// in both, so a packed filter has one layout (fedsim_packed_filter_count).

// The tiles of one block: rows × columns of c from `a` and the packed panels `pb`, kc steps.
KERNEL static void block(int64_t kc, Rows a, const float *pb, int64_t rows, int64_t columns, float *c, int64_t ldc,
                         float alpha, float beta) {
  for (int64_t i = 0; i < rows; i += MR) {
    int r = (int)(rows - i < MR ? rows - i : MR);
    const float *panel = a.packed ? a.at + i * kc : a.tail;
    if (r < MR) {
      shortRows[r](kc, panel, 1, MR, pb, columns, c + i * ldc, ldc, alpha, beta);
    } else if (a.packed) {
      packed_row(kc, panel, 1, MR, pb, columns, c + i * ldc, ldc, alpha, beta);
    } else {
      strided_row(kc, a.at + i * a.rs, a.rs, a.ss, pb, columns, c + i * ldc, ldc, alpha, beta);
    }
  }
}


// Up to this many columns of c, op(a) is read where it lies rather than packed: each of its
// values is then used for few columns, and packing it would cost about as much as the product
// (a layer's input gradient at 7×7 or 14×14 pixels: 49 or 196 columns).
enum { IN_PLACE_COLUMNS = 200 };

// op(b) packed whole ahead of the product (fedsim_pack_filter): its KC-step blocks `width`
// columns (a multiple of 16) wide one after another, the product's columns from `column` on.
typedef struct {
  const float *at;
  int64_t width, column;
} Packed;

// The packed panels of op(b)'s steps [p, p + kc) and columns [j, j + ...) (j a multiple of 16).
static inline const float *packed_panels(Packed b, int64_t p, int64_t kc, int64_t j) {
  return b.at + p * b.width + (b.column + j) * kc;
}

static int product(int32_t transposeA, int32_t transposeB, int64_t m, int64_t n, int64_t k, float alpha,
                   const float *a, int64_t lda, const float *b, int64_t ldb, Packed filter, float beta, float *c,
                   int64_t ldc) {
  int64_t mcb = m < MCB ? m : MCB, ncv = n < NCV ? n : NCV;
  int64_t kc0 = k < KC ? k : KC;
  float *pa = reserve(&packedA, &capacityA, (size_t)((mcb + MR - 1) / MR * MR) * (size_t)kc0);
  float *pb = filter.at ? NULL : reserve(&packedB, &capacityB, (size_t)((ncv + 15) / 16 * 16) * (size_t)kc0);
  if (!pa || (!pb && !filter.at)) return -1;
  int inPlace = n <= IN_PLACE_COLUMNS;
  int64_t rs = transposeA ? 1 : lda, ss = transposeA ? lda : 1;
  for (int64_t i = 0; i < m; i += MCB) {
    int64_t rows = m - i < MCB ? m - i : MCB, whole = rows / MR * MR;
    for (int64_t p = 0; p < k; p += KC) {
      int64_t kc = k - p < KC ? k - p : KC;
      float stepBeta = p == 0 ? beta : 1;
      Rows at = {pa, 1, MR, 1, pa};
      if (!inPlace) {
        pack_a(a, lda, transposeA, i, rows, p, kc, pa);
      } else {
        at = (Rows){a + i * rs + p * ss, rs, ss, 0, pa};
        if (whole < rows) pack_a(a, lda, transposeA, i + whole, rows - whole, p, kc, pa);
      }
      for (int64_t j = 0; j < n; j += NCV) {
        int64_t columns = n - j < NCV ? n - j : NCV;
        const float *panels = pb;
        if (filter.at) {
          panels = packed_panels(filter, p, kc, j);
        } else {
          pack_b(b, ldb, transposeB, p, kc, j, columns, pb);
        }
        if (filter.at && at.packed) {
          block_by_columns(kc, at, panels, rows, columns, c + i * ldc + j, ldc, alpha, stepBeta);
        } else {
          block(kc, at, panels, rows, columns, c + i * ldc + j, ldc, alpha, stepBeta);
        }
      }
    }
  }
  return 0;
}

// The vector FMAs a product issues a step, in rows of tiles: whole panels of MR rows and a short
// last one of its own rows (at least 2, which the FMA's latency costs anyway), times vectors of
// LANES columns (the last one partly empty).
static int64_t issued(int64_t m, int64_t n) {
  int64_t tail = m % MR;
  return (m / MR * MR + (tail == 0 ? 0 : tail < 2 ? 2 : tail)) * ((n + LANES - 1) / LANES);
}

// Up to this many elements of c, a product whose columns fill the vectors badly (49 columns
// issue 64) may be computed turned, c's transpose into scratch, and turned back.
enum { TURNED_ELEMENTS = 1 << 20 };

static _Thread_local float *turned;
static _Thread_local size_t capacityTurned;

// op(x) at step p: x read from its step p on (`across`: op(x)'s rows are x's columns, so a step
// is a row of x; else a step is a column).
static inline const float *from_step(const float *x, int64_t ld, int across, int64_t p) {
  return across ? x + p * ld : x + p;
}

// c = alpha · tᵀ + beta · c for t = op(a) · op(b) [m × n] (c n×m), with the roundings of c
// computed unturned: a block of KC steps at a time, each stored as soon as it is summed (beta for
// the first, 1 after), so that a product gives the same sums turned or not, for every alpha and
// beta, however its callers cut it (and with it the choice to turn). With alpha 1 and beta 0,
// adding the blocks' sums in t first rounds the same, and c is turned once. `filter`: op(b)
// packed ahead (b unused). -1 without scratch, c untouched.
static int turned_product(int32_t transposeA, int32_t transposeB, int64_t m, int64_t n, int64_t k, const float *a,
                          int64_t lda, const float *b, int64_t ldb, Packed filter, float alpha, float beta, float *c,
                          int64_t ldc) {
  float *t = reserve(&turned, &capacityTurned, (size_t)(m * n));
  if (!t) return -1;
  if (alpha == 1 && beta == 0) {
    if (product(transposeA, transposeB, m, n, k, 1, a, lda, b, ldb, filter, 0, t, n) != 0) return -1;
    store_turned(t, n, m, 1, 0, c, ldc);
    return 0;
  }
  for (int64_t p = 0; p < k; p += KC) {
    int64_t kc = k - p < KC ? k - p : KC;
    Packed panels = filter;
    if (filter.at) panels.at = filter.at + p * filter.width;
    const float *bp = filter.at ? NULL : from_step(b, ldb, !transposeB, p);
    if (product(transposeA, transposeB, m, n, kc, 1, from_step(a, lda, transposeA, p), lda, bp, ldb, panels, 0, t, n) != 0) {
      return -1;  // only before the first block: the scratch for the rest is the first's
    }
    store_turned(t, n, m, alpha, p == 0 ? beta : 1, c, ldc);
  }
  return 0;
}

int ISA(fedsim_matrix_product)(int32_t transposeA, int32_t transposeB, int64_t m, int64_t n, int64_t k, float alpha,
                          const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                          int64_t ldc) {
  if (m <= 0 || n <= 0 || k <= 0) return -1;  // the caller handles empty products
  // cᵀ = op(b)ᵀ · op(a)ᵀ: op(b)ᵀ is b read with the other transposition, op(a)ᵀ likewise. The
  // sums are the same, element for element: only which side fills the vectors changes.
  if (10 * issued(n, m) < 9 * issued(m, n) && m * n <= TURNED_ELEMENTS &&
      turned_product(!transposeB, !transposeA, n, m, k, b, ldb, a, lda, (Packed){0}, alpha, beta, c, ldc) == 0) {
    return 0;
  }
  return product(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, (Packed){0}, beta, c, ldc);
}

int ISA(fedsim_product_turns)(int64_t m, int64_t n) {
  return 10 * issued(n, m) < 9 * issued(m, n) && m * n <= TURNED_ELEMENTS;
}

int ISA(fedsim_filter_product_turns)(int64_t m, int64_t n, int32_t transposed) {
  if (ISA(fedsim_product_turns)(m, n)) return 1;
  // op(w) = wᵀ with few columns is read where it lies, a panel's rows together and each step a
  // line `m` floats on, in another page at wide layers: the hardware does not fetch such lines
  // ahead. Turned, the same FMAs read w's kept panels in order.
  return transposed && n <= IN_PLACE_COLUMNS && issued(n, m) <= issued(m, n) && m * n <= TURNED_ELEMENTS;
}

void ISA(fedsim_pack_filter)(int32_t transposeB, int64_t k, int64_t n, const float *b, int64_t ldb, float *out) {
  int64_t width = (n + 15) / 16 * 16;
  for (int64_t p = 0; p < k; p += KC) pack_b(b, ldb, transposeB, p, k - p < KC ? k - p : KC, 0, n, out + p * width);
}

int ISA(fedsim_packed_product)(int32_t transposeA, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                          const float *packed, int64_t width, int64_t column, float beta, float *c, int64_t ldc,
                          int32_t turnC) {
  if (m <= 0 || n <= 0 || k <= 0 || column % 16 != 0 || (uintptr_t)packed % 64 != 0) return -1;
  Packed filter = {packed, (width + 15) / 16 * 16, column};
  if (!turnC) return product(transposeA, 0, m, n, k, 1, a, lda, NULL, 0, filter, beta, c, ldc);
  return turned_product(transposeA, 0, m, n, k, a, lda, NULL, 0, filter, 1, beta, c, ldc);
}

