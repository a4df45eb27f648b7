// Winograd F(2×2, 3×3)'s filter transform G g Gᵀ sixteen filters at a time in AVX-512
// (Sources/Tensors/Kernels/Winograd.swift holds the eight-lane one it matches bit for bit).
#include "CGatherProduct.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))

// Groups of sixteen filters ahead that their lines are fetched.
enum { AHEAD = 8 };

// G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1] applied to (v0, v1, v2), in the Swift one's order.
#define APPLY(v0, v1, v2, o0, o1, o2, o3)                                             \
  o0 = v0;                                                                            \
  o1 = _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(v0, v1), v2));                 \
  o2 = _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(v0, v1), v2));                 \
  o3 = v2;

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

#else

void fedsim_winograd_filter_transform16(const float *w, int64_t first, int64_t n, int64_t count, float *u) {
  (void)w; (void)first; (void)n; (void)count; (void)u;
}

#endif
