import COpenBLAS
import Tensors

/// A dense double-precision matrix in column-major order, as BLAS and LAPACK read it.
struct DenseMatrix {
  let rows: Int
  let columns: Int
  var scalars: [Double]

  init(rows: Int, columns: Int) {
    (self.rows, self.columns) = (rows, columns)
    scalars = [Double](repeating: 0, count: rows * columns)
  }

  subscript(row: Int, column: Int) -> Double {
    get { scalars[column * rows + row] }
    set { scalars[column * rows + row] = newValue }
  }
}

/// A LAPACK routine that reported a failure.
struct LAPACKFailure: Error, CustomStringConvertible {
  var routine: String
  var info: Int32
  var description: String { "LAPACK \(routine) failed (info \(info))" }
}

/// A least-squares problem `min ‖A·x − b‖` held as its normal equations `AᵀA·x = Aᵀb`, built
/// from blocks of rows (BLAS `dsyrk`, `dgemv`) and solved by Cholesky factorisation with
/// complete pivoting (LAPACK `dpstrf`), which stops at the numerical rank.
///
/// R-GAP's systems are well conditioned when they are determined (the rank test is what
/// matters when they are not), and forming `AᵀA` from blocks is far cheaper than an SVD of `A`:
/// a 3,972 × 3,072 layer solves in a fraction of a second where `dgelsd` takes 17 s.
struct NormalEquations {
  let unknowns: Int
  /// `AᵀA`, lower triangle, column-major.
  private var gram: [Double]
  private var moment: [Double]
  private(set) var equations = 0

  init(unknowns: Int) {
    BLAS.oneThreadPerCall()  // else the first solve in a process may sum over OpenBLAS's threads
    self.unknowns = unknowns
    gram = [Double](repeating: 0, count: unknowns * unknowns)
    moment = [Double](repeating: 0, count: unknowns)
  }

  /// Adds the rows of `a` (`rows × width`) acting on unknowns `offset ..< offset + width`, with
  /// right-hand sides `b`.
  mutating func add(_ a: DenseMatrix, _ b: [Double], offset: Int = 0) {
    precondition(b.count == a.rows && offset + a.columns <= unknowns)
    guard a.rows > 0 else { return }
    let (n, m, w) = (Int32(unknowns), Int32(a.rows), Int32(a.columns))
    gram.withUnsafeMutableBufferPointer { g in
      cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, w, m, 1, a.scalars, m, 1, g.baseAddress! + offset * unknowns + offset, n)
    }
    moment.withUnsafeMutableBufferPointer { v in
      cblas_dgemv(CblasColMajor, CblasTrans, m, w, 1, a.scalars, m, b, 1, 1, v.baseAddress! + offset, 1)
    }
    equations += a.rows
  }

  /// The solution, the numerical rank (pivots below `relativeCutoff²` × the largest diagonal
  /// entry end the factorisation; the remaining unknowns are set to 0), and the ratio of the
  /// last pivot kept to the first, an estimate of the smallest singular value kept over the
  /// largest.
  func solve(relativeCutoff: Double) throws(LAPACKFailure) -> (x: [Double], rank: Int, conditioning: Double) {
    var factor = gram
    var n = Int32(unknowns)
    var lda = n
    var pivots = [Int32](repeating: 0, count: unknowns)
    var rank = Int32(0)
    let largest = (0..<unknowns).map { gram[$0 * unknowns + $0] }.max() ?? 0
    var tolerance = relativeCutoff * relativeCutoff * largest
    var work = [Double](repeating: 0, count: 2 * unknowns)
    var info = Int32(0)
    var uplo = CChar(UInt8(ascii: "L"))
    dpstrf_(&uplo, &n, &factor, &lda, &pivots, &rank, &tolerance, &work, &info)
    guard info >= 0 else { throw LAPACKFailure(routine: "dpstrf", info: info) }
    guard largest > 0, rank > 0 else { return ([Double](repeating: 0, count: unknowns), 0, 0) }
    var y = (0..<Int(rank)).map { moment[Int(pivots[$0]) - 1] }
    cblas_dtrsv(CblasColMajor, CblasLower, CblasNoTrans, CblasNonUnit, rank, factor, lda, &y, 1)
    cblas_dtrsv(CblasColMajor, CblasLower, CblasTrans, CblasNonUnit, rank, factor, lda, &y, 1)
    var x = [Double](repeating: 0, count: unknowns)
    for i in 0..<Int(rank) { x[Int(pivots[i]) - 1] = y[i] }
    let r = Int(rank) - 1
    return (x, Int(rank), factor[r * unknowns + r] / factor[0])
  }
}
