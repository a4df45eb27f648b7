// What matrix_product_avx512.c and matrix_product_avx2.c share ahead of their kernels: each
// thread's packing buffers and where a block's rows of op(a) are. Included once by each, as
// their own (static) copies.
#include <stdint.h>
#include <stdlib.h>

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

// Where a block's rows of op(a) are for the kernels: `packed` panels (panel of row i at
// at + i * kc), or where they lie (row i, step p at at + i * rs + p * ss) with the last panel,
// when short, packed at `tail`.
typedef struct {
  const float *at;
  int64_t rs, ss;
  int packed;
  const float *tail;
} Rows;
