import Foundation

/// R-GAP's first step: the last linear layer's input `x` and `k = ∂L/∂logits` from its shared
/// gradient `∂L/∂W = k·xᵀ`, a rank-one matrix at batch 1.
///
/// With a bias, `∂L/∂b = k` (the bias trick breaching's port uses), so
/// `x = (∂L/∂W)ᵀk / ‖k‖²`. Without one, `x` is known up to a scale: with `u` the true class's
/// row, `x = α·u` and `k = w/α` where `w_c = ⟨row_c, u⟩/‖u‖²`; soft-max cross-entropy ties the
/// two through `k = softmax(α·W·u) − e_y`, whose true-class entry gives the scalar equation
/// `α·(p_y(α) − 1) = 1` (so `α < −1`), solved by a scan and bisection. This generalises the
/// original R-GAP's logistic-loss step to many classes. The true class `y` is the one row whose
/// sign differs from the others (`k_y < 0 < k_c`).
enum LastLayerInversion {
  struct Solution {
    var input: [Double]
    var outputGradient: [Double]
    var label: Int
    var report: RGAPLayerReport
  }

  static func invert(_ s: LinearStage) throws(RGAPError) -> Solution {
    let (o, f) = (s.outputs, s.inputCount)
    let rows = (0..<o).map { c in Array(s.weightGradient[(c * f)..<((c + 1) * f)]) }
    if let k = s.biasGradient {
      let kk = k.reduce(0) { $0 + $1 * $1 }
      guard kk > 0, kk.isFinite else { throw .gradient("the last layer's bias gradient is zero or not finite") }
      let x = (0..<f).map { i in (0..<o).reduce(0) { $0 + k[$1] * rows[$1][i] } / kk }
      let label = k.indices.min { k[$0] < k[$1] }!
      return Solution(input: x, outputGradient: k, label: label, report: report(s))
    }
    let label = try trueClass(rows)
    let u = rows[label]
    let uu = dot(u, u)
    let w = rows.map { dot($0, u) / uu }
    let v = (0..<o).map { c in dot(Array(s.weight[(c * f)..<((c + 1) * f)]), u) }
    let alpha = scale(v: v, w: w, label: label)
    return Solution(input: u.map { alpha * $0 }, outputGradient: w.map { $0 / alpha }, label: label, report: report(s))
  }

  /// The closed form determines every input value once `k` is not zero.
  private static func report(_ s: LinearStage) -> RGAPLayerReport {
    RGAPLayerReport(layer: s.name, unknowns: s.inputCount, equations: s.outputs * s.inputCount, rank: s.inputCount, conditioning: 1)
  }

  private static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

  /// The row whose sign, against the largest row, differs from all the others.
  private static func trueClass(_ rows: [[Double]]) throws(RGAPError) -> Int {
    let norms = rows.map { dot($0, $0) }
    guard let reference = norms.indices.max(by: { norms[$0] < norms[$1] }), norms[reference] > 0, norms[reference].isFinite
    else { throw .gradient("the last layer's weight gradient is zero or not finite") }
    let signs = rows.map { dot($0, rows[reference]) }
    let negative = signs.indices.filter { signs[$0] < 0 }
    let positive = signs.indices.filter { signs[$0] >= 0 }
    let minority = negative.count <= positive.count ? negative : positive
    return (minority.isEmpty ? [reference] : minority).max { abs(signs[$0]) < abs(signs[$1]) }!
  }

  /// The `α < −1` that best satisfies `α·(softmax(α·v) − e_y) = w`.
  private static func scale(v: [Double], w: [Double], label: Int) -> Double {
    func probabilities(_ a: Double) -> [Double] {
      let z = v.map { a * $0 }
      let m = z.max()!
      let e = z.map { Foundation.exp($0 - m) }
      let s = e.reduce(0, +)
      return e.map { $0 / s }
    }
    func equation(_ a: Double) -> Double { a * (probabilities(a)[label] - 1) - 1 }
    func residual(_ a: Double) -> Double {
      let p = probabilities(a)
      return p.indices.reduce(0) { r, c in let e = a * (p[c] - (c == label ? 1 : 0)) - w[c]; return r + e * e }
    }
    let grid = (0...320).map { -(1 + Foundation.pow(10, -8 + Double($0) / 20)) }
    var candidates = [grid.min { residual($0) < residual($1) }!]
    for (a, b) in zip(grid, grid.dropFirst()) where equation(a).sign != equation(b).sign {
      var (lo, hi) = (a, b)
      for _ in 0..<200 {
        let mid = (lo + hi) / 2
        if equation(mid).sign == equation(lo).sign { lo = mid } else { hi = mid }
      }
      candidates.append((lo + hi) / 2)
    }
    return candidates.min { residual($0) < residual($1) }!
  }
}
