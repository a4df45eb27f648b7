// Winograd F(2×2, 3×3)'s filter, input and output transforms sixteen lanes at a time in
// AVX-512 (Sources/Tensors/Kernels/Winograd+Filters.swift, Winograd+Lanes.swift and
// Winograd+Tiles.swift hold the eight-lane ones they match bit for bit), and the filter
// transform eight lanes at a time in AVX2.
#include "CGatherProduct.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>

#define AVX512 __attribute__((target("avx512f")))

// Groups of sixteen filters ahead that their lines are fetched.
enum { AHEAD = 8 };

// G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1] applied to (v0, v1, v2), in the Swift one's order, by the
// vector operations `add`, `sub` and `mul` of one width (APPLY: AVX-512; APPLY8: AVX2).
#define APPLY_BY(add, sub, mul, v0, v1, v2, o0, o1, o2, o3) \
  o0 = v0;                                                  \
  o1 = mul(half, add(add(v0, v1), v2));                     \
  o2 = mul(half, add(sub(v0, v1), v2));                     \
  o3 = v2;
#define APPLY(...) APPLY_BY(_mm512_add_ps, _mm512_sub_ps, _mm512_mul_ps, __VA_ARGS__)
#define APPLY8(...) APPLY_BY(_mm256_add_ps, _mm256_sub_ps, _mm256_mul_ps, __VA_ARGS__)

AVX512 void fedsim_winograd_filter_transform16(const float *w, int64_t first, int64_t n, int64_t count, float *u) {
  const __m512 half = _mm512_set1_ps(0.5f);
  const __m512i nine = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(9));
  for (int64_t f = first; f < first + n; f += 16) {
    const int64_t lanes = first + n - f < 16 ? first + n - f : 16;
    const __mmask16 mask = (__mmask16)((1u << lanes) - 1u);
    const float *g = w + 9 * f;
    // The gathers wait on memory unless the filters are on their way (the nine lines of the
    // sixteen filters AHEAD groups on): a seed is read once, fresh from a pass over 9 MiB.
    for (int line = 0; line < 9; line++) _mm_prefetch((const char *)(g + 144 * AHEAD + 16 * line), _MM_HINT_T0);
    __m512 t[9];
    for (int k = 0; k < 9; k++) t[k] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, nine, g + k, 4);
    // Down the columns: column j of g (taps j, 3 + j, 6 + j) into four values.
    __m512 c[3][4];
    for (int j = 0; j < 3; j++) { APPLY(t[j], t[3 + j], t[6 + j], c[j][0], c[j][1], c[j][2], c[j][3]) }
    // Along the rows: row r of those into elements 4r … 4r + 3 of the 4×4 result.
    for (int r = 0; r < 4; r++) {
      __m512 o[4];
      APPLY(c[0][r], c[1][r], c[2][r], o[0], o[1], o[2], o[3])
      for (int e = 0; e < 4; e++) _mm512_mask_storeu_ps(u + (4 * r + e) * count + f, mask, o[e]);
    }
  }
}

// Bᵀ d B of the 4×4 input blocks of a run of `count` (≤ 16) consecutive tiles, two columns
// apart, row r of the first block at d + r·columns: element ξ of tile k to at[ξ·spread + k].
// The same additions in the same order as Winograd.inputTileTransform's eight lanes. Reads
// 34 columns of each row where `room` (columns from d to the row's end) holds them, else only the
// 2·count + 2 the run covers; writes only its `count` lanes.
AVX512 void fedsim_winograd_input_run16(
    const float *d, int64_t columns, int32_t room, int32_t count, float *at, int64_t spread) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const int need = 2 * count + 2;  // columns 0 ..< need
  const __mmask16 m0 = need >= 16 ? 0xffff : (__mmask16)((1u << need) - 1u);
  const __mmask16 m1 = need <= 16 ? 0 : (__mmask16)((1u << (need - 16)) - 1u);
  const __mmask16 n0 = need >= 18 ? 0xffff : (__mmask16)((1u << (need - 2)) - 1u);
  const __mmask16 n1 = need <= 18 ? 0 : (__mmask16)((1u << (need - 18)) - 1u);
  __m512 c[4][4];  // c[r][j]: column j of row r of each tile's block
  for (int r = 0; r < 4; r++) {
    const float *row = d + r * columns;
    __m512 a0, a1, b0, b1;
    if (room >= 34) {  // masked loads ran at a third of the speed on Zen 5
      a0 = _mm512_loadu_ps(row), a1 = _mm512_loadu_ps(row + 16);
      b0 = _mm512_loadu_ps(row + 2), b1 = _mm512_loadu_ps(row + 18);
    } else {
      a0 = _mm512_maskz_loadu_ps(m0, row), a1 = _mm512_maskz_loadu_ps(m1, row + 16);
      b0 = _mm512_maskz_loadu_ps(n0, row + 2), b1 = _mm512_maskz_loadu_ps(n1, row + 18);
    }
    c[r][0] = _mm512_permutex2var_ps(a0, even, a1);
    c[r][1] = _mm512_permutex2var_ps(a0, odd, a1);
    c[r][2] = _mm512_permutex2var_ps(b0, even, b1);
    c[r][3] = _mm512_permutex2var_ps(b0, odd, b1);
  }
  const __mmask16 lanes = count >= 16 ? 0xffff : (__mmask16)((1u << count) - 1u);
  // Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], down the columns, then along the rows.
  for (int i = 0; i < 4; i++) {
    __m512 s[4];
    for (int j = 0; j < 4; j++) {
      switch (i) {
      case 0: s[j] = _mm512_sub_ps(c[0][j], c[2][j]); break;
      case 1: s[j] = _mm512_add_ps(c[1][j], c[2][j]); break;
      case 2: s[j] = _mm512_sub_ps(c[2][j], c[1][j]); break;
      default: s[j] = _mm512_sub_ps(c[1][j], c[3][j]); break;
      }
    }
    float *p = at + (4 * i) * spread;
    _mm512_mask_storeu_ps(p, lanes, _mm512_sub_ps(s[0], s[2]));
    _mm512_mask_storeu_ps(p + spread, lanes, _mm512_add_ps(s[1], s[2]));
    _mm512_mask_storeu_ps(p + 2 * spread, lanes, _mm512_sub_ps(s[2], s[1]));
    _mm512_mask_storeu_ps(p + 3 * spread, lanes, _mm512_sub_ps(s[1], s[3]));
  }
}

// Aᵀ m A of the 16 products of a run of `count` (≤ 16) consecutive tiles (element ξ of tile k
// at m[ξ·spread + k]): the 2×2 output blocks, their first `columns` columns, into row0 and, when
// not NULL, row1. The same additions in the same order as Winograd.Plan.outputTransform's eight
// lanes. Reads sixteen lanes of 16 planes from m on.
AVX512 void fedsim_winograd_output_run16(
    const float *m, int64_t spread, int32_t count, float *row0, float *row1, int32_t columns) {
  // All sixteen lanes, past a short run too: into the panel's next row or the gap after it
  // (Winograd.Panels), never written out.
  __m512 q[16];
  for (int xi = 0; xi < 16; xi++) q[xi] = _mm512_loadu_ps(m + xi * spread);
  // Aᵀ = [1 1 1 0; 0 1 −1 −1], down the columns, then along the rows.
  __m512 top[4], bottom[4];
  for (int j = 0; j < 4; j++) {
    top[j] = _mm512_add_ps(_mm512_add_ps(q[j], q[4 + j]), q[8 + j]);
    bottom[j] = _mm512_sub_ps(_mm512_sub_ps(q[4 + j], q[8 + j]), q[12 + j]);
  }
  const __m512i low = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i high = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const __mmask16 first = columns >= 16 ? 0xffff : (__mmask16)((1u << columns) - 1u);
  const __mmask16 second = columns <= 16 ? 0 : columns >= 32 ? 0xffff : (__mmask16)((1u << (columns - 16)) - 1u);
  for (int r = 0; r < 2; r++) {
    float *row = r == 0 ? row0 : row1;
    if (row == NULL) break;
    const __m512 *t = r == 0 ? top : bottom;
    const __m512 even = _mm512_add_ps(_mm512_add_ps(t[0], t[1]), t[2]);
    const __m512 odd = _mm512_sub_ps(_mm512_sub_ps(t[1], t[2]), t[3]);
    _mm512_mask_storeu_ps(row, first, _mm512_permutex2var_ps(even, low, odd));
    _mm512_mask_storeu_ps(row + 16, second, _mm512_permutex2var_ps(even, high, odd));
  }
}

// The filter transform eight lanes at a time in AVX2 with FMA, for CPUs without AVX-512: the
// same additions in the same order (APPLY8), so the same values. In Swift's eight-lane vectors
// (Winograd.filterTransform, the portable path) it compiled to scalar arithmetic and spills, and
// a seed's transforms took 3.6% of a ResNet-18 evaluation on Zen 3.
#define AVX2 __attribute__((target("avx2,fma")))
#include "avx2_lanes.h"

AVX2 void fedsim_winograd_filter_transform8(const float *w, int64_t first, int64_t n, int64_t count, float *u) {
  const __m256 half = _mm256_set1_ps(0.5f);
  const __m256i nine = _mm256_setr_epi32(0, 9, 18, 27, 36, 45, 54, 63);
  for (int64_t f = first; f < first + n; f += 8) {
    const int64_t lanes = first + n - f;
    const __m256i mask = first_lanes(lanes);
    const float *g = w + 9 * f;
    // The five lines of the eight filters 2·AHEAD groups of eight on (as the sixteen-lane one
    // fetches its nine).
    for (int line = 0; line < 5; line++) _mm_prefetch((const char *)(g + 144 * AHEAD + 16 * line), _MM_HINT_T0);
    __m256 t[9];
    for (int k = 0; k < 9; k++) {
      t[k] = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), g + k, nine, _mm256_castsi256_ps(mask), 4);
    }
    __m256 c[3][4];  // down the columns: column j of g into four values
    for (int j = 0; j < 3; j++) { APPLY8(t[j], t[3 + j], t[6 + j], c[j][0], c[j][1], c[j][2], c[j][3]) }
    for (int r = 0; r < 4; r++) {  // along the rows: elements 4r … 4r + 3
      __m256 o[4];
      APPLY8(c[0][r], c[1][r], c[2][r], o[0], o[1], o[2], o[3])
      for (int e = 0; e < 4; e++) store_lanes(u + (4 * r + e) * count + f, lanes, o[e]);
    }
  }
}

#else

void fedsim_winograd_filter_transform16(const float *w, int64_t first, int64_t n, int64_t count, float *u) {
  (void)w; (void)first; (void)n; (void)count; (void)u;
}

void fedsim_winograd_input_run16(
    const float *d, int64_t columns, int32_t room, int32_t count, float *at, int64_t spread) {
  (void)d; (void)columns; (void)room; (void)count; (void)at; (void)spread;
}

void fedsim_winograd_output_run16(
    const float *m, int64_t spread, int32_t count, float *row0, float *row1, int32_t columns) {
  (void)m; (void)spread; (void)count; (void)row0; (void)row1; (void)columns;
}

void fedsim_winograd_filter_transform8(const float *w, int64_t first, int64_t n, int64_t count, float *u) {
  (void)w; (void)first; (void)n; (void)count; (void)u;
}

#endif
