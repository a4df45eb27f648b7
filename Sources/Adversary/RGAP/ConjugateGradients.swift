/// Least squares `min ‖S·x − t‖` by conjugate gradients on the normal equations (CGLS), with
/// `S` given only as a product and its transpose: no matrix is formed, so the memory is a few
/// vectors whatever the size. Started from zero, it converges to the least-norm solution when
/// `S` is rank-deficient.
enum ConjugateGradients {
  struct Solution {
    var x: [Double]
    var iterations: Int
    /// `‖Sᵀ(t − S·x)‖ / ‖Sᵀt‖` at the end: how far from the normal equations.
    var normalResidual: Double
  }

  static func leastSquares(
    unknowns: Int, target t: [Double], tolerance: Double = 1e-12, maxIterations: Int? = nil,
    apply: ([Double]) -> [Double], transposed: ([Double]) -> [Double]
  ) -> Solution {
    var x = [Double](repeating: 0, count: unknowns)
    var r = t
    var s = transposed(r)
    var p = s
    var gamma = dot(s, s)
    let start = gamma.squareRoot()
    guard start > 0 else { return Solution(x: x, iterations: 0, normalResidual: 0) }
    // In exact arithmetic CG ends within `unknowns` steps; rounding can stretch that a little.
    let limit = maxIterations ?? Swift.min(50_000, 4 * unknowns)
    var iterations = 0
    while iterations < limit && gamma.squareRoot() > tolerance * start {
      iterations += 1
      let q = apply(p)
      let qq = dot(q, q)
      guard qq > 0 else { break }
      let alpha = gamma / qq
      for i in x.indices { x[i] += alpha * p[i] }
      for i in r.indices { r[i] -= alpha * q[i] }
      s = transposed(r)
      let next = dot(s, s)
      let beta = next / gamma
      gamma = next
      for i in p.indices { p[i] = s[i] + beta * p[i] }
    }
    return Solution(x: x, iterations: iterations, normalResidual: gamma.squareRoot() / start)
  }

  private static func dot(_ a: [Double], _ b: [Double]) -> Double {
    var total = 0.0
    for i in a.indices { total += a[i] * b[i] }
    return total
  }
}
