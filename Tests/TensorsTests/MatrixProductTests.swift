import CGatherProduct
@testable import Tensors
import Testing
import TestSupport

/// `Kernels.gemm` against a float64 product computed here, over shapes that leave partial tiles
/// (rows past a multiple of 12, columns past a multiple of 16 and 32), cross the kernel's blocks
/// (more than 256 steps, 512 columns, 1,536 rows), all four transpositions, row lengths longer
/// than the rows, alpha and beta, and both ways of reading op(a) (packed when c has more than
/// 200 columns, else where it lies, its last short panel packed), and products computed turned
/// (cᵀ = op(b)ᵀ·op(a)ᵀ, where c's columns fill the vectors worse than its rows fill the panels:
/// 49 columns, 7, 11 with 17 rows). Through `gemm` this is FedSim's own product where it takes
/// it (`Kernels.ownProduct`: every product in AVX-512, the turned filter products in AVX2),
/// elsewhere OpenBLAS's; and FedSim's own called directly.
@Suite("Matrix product", .serialized)
struct MatrixProductTests {
  static let cases: [(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float)] = [
    (1, 1, 1, false, false, 1, 0),
    (12, 32, 256, false, false, 1, 0),  // one whole tile, one block of steps
    (13, 33, 257, true, false, 0.5, 0),  // one past in each direction
    (37, 53, 29, false, true, 1, 1),
    (7, 5, 3, true, true, -2, 0.25),
    (64, 530, 300, false, false, 1, 0.5),  // two blocks of columns, two of steps
    (1_600, 20, 70, true, false, 1, 0),  // two blocks of rows
    (100, 47, 600, true, true, 0.75, 0),  // three blocks of steps, transposed b packed
    (24, 16, 9, false, true, 1, -1),
    (11, 17, 1, false, false, 1, 0),
    (30, 260, 40, true, true, 1, 0.5),  // more than 200 columns: a packed, transposed
    (25, 201, 17, false, false, 2, 0),  // and as it lies
    (60, 2_000, 100, false, true, 1, 0.5),  // cut into blocks of columns at three threads
    (3_000, 40, 200, true, false, 1, 0),  // into blocks of rows
    (512, 49, 600, false, false, 1, 0),  // computed turned (49 columns fill 4 vectors badly)
    (300, 49, 70, true, false, 0.5, 1),  // turned, and added to c
    (200, 7, 33, false, true, -1, 0.25),  // turned, one short panel of 7 rows
    (512, 600, 49, false, true, 1, 0),  // a short reduction into a large output: FedSim's in AVX2 too
  ]

  /// On one thread, and on three (a large product cut into a block of rows or of
  /// columns a thread). The threads are the process's: a suite running beside this one
  /// may set them too, and the results must not depend on them.
  @Test("equals a float64 product, edges and blocks included", arguments: 0..<18, [1, 3])
  func matchesFloat64(index: Int, threads: Int) throws {
    check(index: index, threads: threads, direct: false)
  }

  /// FedSim's own product called directly, whatever `gemm` would choose: in AVX2, `gemm` takes
  /// it only for products a layer's kept filters serve and short reductions into large outputs
  /// (`Kernels.ownProduct`), so its other paths (packed rows, c not turned, alpha and beta over
  /// several blocks of steps) are held to float64 here.
  @Test(
    "FedSim's own product, called directly, equals a float64 product",
    .enabled(if: Kernels.widerProducts, "FedSim's own product runs only with AVX2 and FMA, or AVX-512"),
    arguments: 0..<18)
  func ownMatchesFloat64(index: Int) {
    check(index: index, threads: 1, direct: true)
  }

  /// A product cut into blocks of rows or columns, each block through FedSim's own product,
  /// which turns a block or not by its own shape: the same bits as the whole, for alpha and
  /// beta other than 1 and 0 over several blocks of steps (where a turned product stores c once
  /// per block of steps, as an unturned one does). `gemm` cuts products by its threads, so a
  /// turn that changed the sums made results depend on how many threads ran.
  @Test(
    "FedSim's own product: the same bits turned or not, however it is cut, for every alpha and beta",
    .enabled(if: Kernels.widerProducts, "FedSim's own product runs only with AVX2 and FMA, or AVX-512"))
  func sameBitsHoweverCut() {
    let shapes: [(m: Int, n: Int, k: Int, transposeA: Bool, alpha: Float, beta: Float)] = [
      (1_024, 8, 512, true, 1, 1),  // a 1×1 layer's input gradient added into place
      (300, 49, 600, false, 0.5, 0.25),
      (64, 49, 700, false, -1, 1),
      (49, 300, 520, true, 2, 0.5),
      (200, 7, 300, false, 1, 0),
    ]
    var mixed = 0
    for (index, t) in shapes.enumerated() {
      var gen = SeededGenerator(seed: UInt64(index + 40))
      let lda = t.transposeA ? t.m : t.k
      let a = (0..<t.m * t.k).map { _ in Float.random(in: -1...1, using: &gen) }
      let b = (0..<t.k * t.n).map { _ in Float.random(in: -1...1, using: &gen) }
      let c0 = (0..<t.m * t.n).map { _ in Float.random(in: -1...1, using: &gen) }
      // Rows [i, i + rows) and columns [j, j + columns) of c, into c.
      func block(_ c: inout [Float], _ i: Int, _ rows: Int, _ j: Int, _ columns: Int) {
        let status = a.withUnsafeBufferPointer { a in
          b.withUnsafeBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in
              fedsim_matrix_product(
                t.transposeA ? 1 : 0, 0, Int64(rows), Int64(columns), Int64(t.k), t.alpha,
                a.baseAddress! + (t.transposeA ? i : i * lda), Int64(lda), b.baseAddress! + j, Int64(t.n), t.beta,
                c.baseAddress! + i * t.n + j, Int64(t.n))
            }
          }
        }
        #expect(status == 0)
      }
      var whole = c0
      block(&whole, 0, t.m, 0, t.n)
      var turns = Set([fedsim_product_turns(Int64(t.m), Int64(t.n))])
      for parts in [2, 3, 5, 8] {
        for byRows in [true, false] {
          let count = byRows ? t.m : t.n
          let step = (count + parts - 1) / parts
          var cut = c0
          for start in stride(from: 0, to: count, by: step) {
            let size = Swift.min(step, count - start)
            if byRows { block(&cut, start, size, 0, t.n) } else { block(&cut, 0, t.m, start, size) }
            turns.insert(fedsim_product_turns(Int64(byRows ? size : t.m), Int64(byRows ? t.n : size)))
          }
          let differing = zip(whole, cut).filter { $0.bitPattern != $1.bitPattern }.count
          #expect(differing == 0, "\(t.m)×\(t.n)×\(t.k) in \(parts) blocks of \(byRows ? "rows" : "columns"): \(differing) elements differ")
        }
      }
      if turns.count > 1 { mixed += 1 }
    }
    #expect(mixed > 0, "no shape here was turned whole and unturned cut, or the other way")
  }

  private func check(index: Int, threads: Int, direct: Bool) {
    let hold = BLASThreadsHold(threads: threads)
    defer { hold.release() }
    let t = Self.cases[index]
    var gen = SeededGenerator(seed: UInt64(index + 700))
    // Stored shapes, each row 3 longer than op() needs.
    let (aRows, aColumns) = t.transposeA ? (t.k, t.m) : (t.m, t.k)
    let (bRows, bColumns) = t.transposeB ? (t.n, t.k) : (t.k, t.n)
    let (lda, ldb, ldc) = (aColumns + 3, bColumns + 3, t.n + 3)
    let a = (0..<aRows * lda).map { _ in Float.random(in: -1...1, using: &gen) }
    let b = (0..<bRows * ldb).map { _ in Float.random(in: -1...1, using: &gen) }
    var c = (0..<t.m * ldc).map { _ in Float.random(in: -1...1, using: &gen) }
    // Beta 0: what c held must not reach the result, not even a NaN.
    if t.beta == 0 { for i in stride(from: 0, to: c.count, by: 5) { c[i] = .nan } }
    let before = c
    a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        c.withUnsafeMutableBufferPointer { c in
          if direct {
            let status = fedsim_matrix_product(
              t.transposeA ? 1 : 0, t.transposeB ? 1 : 0, Int64(t.m), Int64(t.n), Int64(t.k), t.alpha, a.baseAddress!,
              Int64(lda), b.baseAddress!, Int64(ldb), t.beta, c.baseAddress!, Int64(ldc))
            #expect(status == 0, "FedSim's own product declined")
            return
          }
          Kernels.gemm(
            transposeA: t.transposeA, transposeB: t.transposeB, m: t.m, n: t.n, k: t.k, alpha: t.alpha,
            a.baseAddress!, lda: lda, b.baseAddress!, ldb: ldb, beta: t.beta, c.baseAddress!, ldc: ldc)
        }
      }
    }
    var worst = 0.0
    for i in 0..<t.m {
      for j in 0..<ldc {
        let index = i * ldc + j
        guard j < t.n else {  // past the columns: untouched
          #expect(c[index].bitPattern == before[index].bitPattern, "c[\(i)][\(j)] past the columns was written")
          continue
        }
        var sum = 0.0, scale = 0.0
        for p in 0..<t.k {
          let x = Double(t.transposeA ? a[p * lda + i] : a[i * lda + p])
          let y = Double(t.transposeB ? b[j * ldb + p] : b[p * ldb + j])
          sum += x * y
          scale += abs(x * y)
        }
        var expected = Double(t.alpha) * sum
        if t.beta != 0 { expected += Double(t.beta) * Double(before[index]) }
        let error = abs(Double(c[index]) - expected) / (abs(Double(t.alpha)) * scale + 1)
        worst = max(worst, error.isNaN ? .infinity : error)
      }
    }
    let path =
      !Kernels.ownProduct(transposeA: t.transposeA, transposeB: t.transposeB, m: t.m, n: t.n, k: t.k) && !direct ? "OpenBLAS"
      : fedsim_panel_product_wide() != 0 ? "FedSim's, AVX-512" : "FedSim's, AVX2"
    #expect(worst < 1e-5, "worst error \(worst) relative to the sum of |products| (\(path))")
  }
}
