// The first lanes of an eight-lane vector, shared by the AVX2 files (matrix_product_avx2.c,
// winograd_transforms.c, winograd4_transforms_avx2.c): each includes this after <immintrin.h>
// and its definition of AVX2 (the function attribute).

// The first `count` (clamped to 0…8) lanes of a vector, as a mask for maskload.
AVX2 static inline __attribute__((always_inline)) __m256i first_lanes(int64_t count) {
  const __m256i ramp = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count < 0 ? 0 : count > 8 ? 8 : count)), ramp);
}

// Writes the first `count` lanes of v to p (none when `count` ≤ 0): all eight by a plain store,
// fewer by stores of four, two and one. (A masked store is microcoded on AMD's cores: on Zen 3
// the short runs' 36 masked stores of F(4×4)'s input transform took 45% of its samples, 2.6% of
// an Inception-v3 evaluation's.)
AVX2 static inline __attribute__((always_inline)) void store_lanes(float *p, int64_t count, __m256 v) {
  if (count >= 8) {
    _mm256_storeu_ps(p, v);
    return;
  }
  __m128 x = _mm256_castps256_ps128(v);
  if (count >= 4) {
    _mm_storeu_ps(p, x);
    x = _mm256_extractf128_ps(v, 1);
    p += 4;
    count -= 4;
  }
  if (count >= 2) {
    _mm_storel_pi((__m64 *)p, x);
    x = _mm_movehl_ps(x, x);
    p += 2;
    count -= 2;
  }
  if (count >= 1) _mm_store_ss(p, x);
}
