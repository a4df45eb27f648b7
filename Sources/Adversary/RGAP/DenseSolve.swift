/// Gaussian elimination with partial pivoting on a small square system `A·X = B` (`B` given
/// row by row); throws when a pivot vanishes.
enum DenseSolve {
  struct Singular: Error {}

  static func solve(_ matrix: [[Double]], _ rhs: [[Double]]) throws(Singular) -> [[Double]] {
    var (a, b) = (matrix, rhs)
    let n = a.count
    let largest = a.flatMap { $0 }.map(abs).max() ?? 0
    for col in 0..<n {
      guard let pivot = (col..<n).max(by: { abs(a[$0][col]) < abs(a[$1][col]) }), abs(a[pivot][col]) > 1e-14 * largest else {
        throw Singular()
      }
      a.swapAt(col, pivot)
      b.swapAt(col, pivot)
      for r in (col + 1)..<n {
        let m = a[r][col] / a[col][col]
        if m == 0 { continue }
        for j in col..<n { a[r][j] -= m * a[col][j] }
        for i in b[r].indices { b[r][i] -= m * b[col][i] }
      }
    }
    for col in (0..<n).reversed() {
      for i in b[col].indices {
        let known = ((col + 1)..<n).reduce(0) { $0 + a[col][$1] * b[$1][i] }
        b[col][i] = (b[col][i] - known) / a[col][col]
      }
    }
    return b
  }
}
