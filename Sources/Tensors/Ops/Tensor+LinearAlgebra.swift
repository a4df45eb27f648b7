/// The matrix product `op(a) · op(b)` of rank-2 tensors through `cblas_sgemm`, where `op`
/// transposes when its flag is set (without copying).
public func matmul(
  _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false
) -> Tensor {
  precondition(a.rank == 2 && b.rank == 2, "matmul takes rank-2 tensors, got \(a.shape), \(b.shape)")
  let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
  let (k2, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
  precondition(k == k2, "matmul: inner dimensions differ: \(a.shape) · \(b.shape)")
  let out = TensorStorage(count: m * n)
  Kernels.gemm(
    transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a.storage.base,
    lda: a.shape[1], b.storage.base, ldb: b.shape[1], out.base, ldc: n)
  return Tensor.make(
    .matmul(transposeA: transposeA, transposeB: transposeB), [a, b], shape: [m, n], storage: out)
}
