// Winograd F(4×4, 3×3)'s three transforms along one axis, shared by winograd4_transforms.c
// (AVX-512, sixteen lanes) and winograd4_transforms_avx2.c (AVX2, eight): each includes this
// after defining W4_VEC (the vector type), W4_TARGET (the function attribute) and W4_SET1,
// W4_ADD, W4_SUB, W4_MUL, W4_FMADD (a·b + c) and W4_FMSUB (a·b − c) for it. The same operations
// in the same order either way, so both give the same values bit for bit.

// G = [½ 0 0; ½ ½ ½; −1/18 1/18 −1/18; 1/18 1/9 2/9; 2/9 1/9 1/18; 0 0 ½] of (g0, g1, g2).
W4_TARGET static inline __attribute__((always_inline)) void filter_weights(W4_VEC g0, W4_VEC g1, W4_VEC g2, W4_VEC o[6]) {
  const W4_VEC half = W4_SET1(0.5f), ninth = W4_SET1(1.0f / 9), eighteenth = W4_SET1(1.0f / 18);
  const W4_VEC two = W4_SET1(2.0f);
  o[0] = W4_MUL(g0, half);
  o[1] = W4_MUL(W4_ADD(W4_ADD(g0, g1), g2), half);
  o[2] = W4_MUL(W4_SUB(W4_SUB(g1, g0), g2), eighteenth);
  o[3] = W4_MUL(W4_FMADD(two, g2, W4_FMADD(g0, half, g1)), ninth);
  o[4] = W4_MUL(W4_FMADD(g2, half, W4_FMADD(two, g0, g1)), ninth);
  o[5] = W4_MUL(g2, half);
}

// Bᵀ x: Bᵀ = [2 −5 0 5 −2 0; 0 −2 3 3 −2 0; 0 2 −7 7 −2 0; 0 1 −2 −1 2 0; 0 2 −1 −2 1 0; 0 −2 5 0 −5 2].
W4_TARGET static inline __attribute__((always_inline)) void input_weights(const W4_VEC x[6], W4_VEC o[6]) {
  const W4_VEC two = W4_SET1(2.0f), three = W4_SET1(3.0f), five = W4_SET1(5.0f);
  const W4_VEC seven = W4_SET1(7.0f);
  const W4_VEC d04 = W4_SUB(x[0], x[4]), d31 = W4_SUB(x[3], x[1]), d14 = W4_SUB(x[1], x[4]);
  const W4_VEC d32 = W4_SUB(x[3], x[2]), d13 = W4_SUB(x[1], x[3]), d42 = W4_SUB(x[4], x[2]);
  const W4_VEC d51 = W4_SUB(x[5], x[1]), d24 = W4_SUB(x[2], x[4]);
  o[0] = W4_FMADD(five, d31, W4_MUL(two, d04));
  o[1] = W4_FMSUB(three, W4_ADD(x[2], x[3]), W4_MUL(two, W4_ADD(x[1], x[4])));
  o[2] = W4_FMADD(seven, d32, W4_MUL(two, d14));
  o[3] = W4_FMADD(two, d42, d13);
  o[4] = W4_FMADD(two, d13, d42);
  o[5] = W4_FMADD(five, d24, W4_MUL(two, d51));
}

// Aᵀ m: Aᵀ = [1 1 1 1 8 0; 0 1 −1 2 4 0; 0 1 1 4 2 0; 0 1 −1 8 1 1].
W4_TARGET static inline __attribute__((always_inline)) void output_weights(const W4_VEC m[6], W4_VEC o[4]) {
  const W4_VEC two = W4_SET1(2.0f), four = W4_SET1(4.0f), eight = W4_SET1(8.0f);
  const W4_VEC s12 = W4_ADD(m[1], m[2]), d12 = W4_SUB(m[1], m[2]);
  o[0] = W4_FMADD(eight, m[4], W4_ADD(W4_ADD(m[0], s12), m[3]));
  o[1] = W4_FMADD(four, m[4], W4_FMADD(two, m[3], d12));
  o[2] = W4_FMADD(two, m[4], W4_FMADD(four, m[3], s12));
  o[3] = W4_ADD(W4_FMADD(eight, m[3], d12), W4_ADD(m[4], m[5]));
}

// G g Gᵀ of each lane's filter, t[k] holding tap k (row-major): element 6r + e into o.
W4_TARGET static inline __attribute__((always_inline)) void filter_block(const W4_VEC t[9], W4_VEC o[36]) {
  W4_VEC c[3][6];  // column j of G g
  for (int j = 0; j < 3; j++) filter_weights(t[j], t[3 + j], t[6 + j], c[j]);
  for (int r = 0; r < 6; r++) filter_weights(c[0][r], c[1][r], c[2][r], o + 6 * r);
}

// Bᵀ d B of each lane's 6×6 block, c[r][j] holding column j of row r: down each column (Bᵀ d),
// then along each transformed row (· B), element 6i + e into o.
W4_TARGET static inline __attribute__((always_inline)) void input_block(const W4_VEC c[6][6], W4_VEC o[36]) {
  W4_VEC down[6][6];  // down[j][ξ]
  for (int j = 0; j < 6; j++) {
    const W4_VEC x[6] = {c[0][j], c[1][j], c[2][j], c[3][j], c[4][j], c[5][j]};
    input_weights(x, down[j]);
  }
  for (int i = 0; i < 6; i++) {
    const W4_VEC x[6] = {down[0][i], down[1][i], down[2][i], down[3][i], down[4][i], down[5][i]};
    input_weights(x, o + 6 * i);
  }
}

// Aᵀ m A of each lane's 36 products (element ξ in m[ξ]): result[j][i] is output (i, j).
W4_TARGET static inline __attribute__((always_inline)) void output_block(const W4_VEC m[36], W4_VEC result[4][4]) {
  W4_VEC along[6][4];  // along[r][j]: row r of the products by A
  for (int r = 0; r < 6; r++) output_weights(m + 6 * r, along[r]);
  for (int j = 0; j < 4; j++) {  // column j, down the rows (Aᵀ ·)
    const W4_VEC x[6] = {along[0][j], along[1][j], along[2][j], along[3][j], along[4][j], along[5][j]};
    output_weights(x, result[j]);
  }
}
