import Foundation

/// The fit behind `BatchLastLayerInversion`: find the `B × B` matrix `A` with
/// `F(A⁻ᵀ·C) = A·E`, where `F` maps features to output gradients through the last layer, by
/// Levenberg–Marquardt with a forward-difference Jacobian (`B²` columns, each one pass of `F`).
struct BatchLastLayerFit {
  let stage: LinearStage
  let labels: [Int]
  /// `E`, `B × classes`, orthonormal rows spanning the shared gradient's columns.
  let basis: [[Double]]
  /// `C = E·G`, `B × width`.
  let coordinates: [[Double]]
  let shared: [[Double]]

  struct Result {
    var features: [[Double]]
    var outputGradients: [[Double]]
    /// `‖F(H) − K‖ / ‖K‖`: how far the features are from giving their own output gradients back.
    var misfit: Double
  }

  init(stage: LinearStage, labels: [Int], basis: [[Double]], shared: [[Double]]) {
    (self.stage, self.labels, self.basis, self.shared) = (stage, labels, basis, shared)
    let width = shared.first?.count ?? 0
    coordinates = basis.map { e in (0..<width).map { i in e.indices.reduce(0) { $0 + e[$1] * shared[$1][i] } } }
  }

  /// The fit from the output gradients `k0` (projected onto the span), or nil when its matrix
  /// turns singular at the start.
  func solve(from k0: [[Double]], iterations: Int = 200) -> Result? {
    var a = k0.map { k in basis.map { e in zip(k, e).reduce(0) { $0 + $1.0 * $1.1 } } }
    guard var r = residual(a) else { return nil }
    var cost = dot(r.values, r.values)
    var damping = 1e-3
    let n = a.count * a.count
    for _ in 0..<iterations where cost > 0 {
      let jacobian = columns(at: a, base: r.values)
      let normal = (0..<n).map { i in (0..<n).map { j in dot(jacobian[i], jacobian[j]) } }
      let gradient = (0..<n).map { -dot(jacobian[$0], r.values) }
      var improved = false
      while damping < 1e12 {
        var damped = normal
        for i in 0..<n { damped[i][i] += damping * max(normal[i][i], 1e-300) }
        if let step = try? DenseSolve.solve(damped, gradient.map { [$0] }).map({ $0[0] }),
          let next = residual(shifted(a, by: step)), dot(next.values, next.values) < cost
        {
          (a, r, cost) = (shifted(a, by: step), next, dot(next.values, next.values))
          damping = max(damping / 10, 1e-12)
          improved = true
          break
        }
        damping *= 10
      }
      if !improved { break }
    }
    let k = a.map { row in (0..<stage.outputs).map { c in row.indices.reduce(0) { $0 + row[$1] * basis[$1][c] } } }
    let size = k.flatMap { $0 }.reduce(0) { $0 + $1 * $1 }
    return Result(features: r.features, outputGradients: k, misfit: (cost / max(size, 1e-300)).squareRoot())
  }

  /// The share of the shared gradient's norm outside the span: the part no batch of `B` explains.
  func outsideShare() -> Double {
    var outside = 0.0, size = 0.0
    for (c, row) in shared.enumerated() {
      for i in row.indices {
        let inside = basis.indices.reduce(0) { $0 + basis[$1][c] * coordinates[$1][i] }
        (outside, size) = (outside + (row[i] - inside) * (row[i] - inside), size + row[i] * row[i])
      }
    }
    return size > 0 ? (outside / size).squareRoot() : 1
  }

  /// `F(A⁻ᵀ·C) − A·E`, flattened, with the features; nil when `A` is singular.
  private func residual(_ a: [[Double]]) -> (values: [Double], features: [[Double]])? {
    let transposed = a.indices.map { i in a.indices.map { j in a[j][i] } }
    guard let h = try? DenseSolve.solve(transposed, coordinates) else { return nil }
    var values: [Double] = []
    for (b, row) in a.enumerated() {
      let k = outputGradient(features: h[b], label: labels[b])
      for c in 0..<stage.outputs { values.append(k[c] - row.indices.reduce(0) { $0 + row[$1] * basis[$1][c] }) }
    }
    return (values, h)
  }

  /// The Jacobian's columns by forward differences, one per entry of `A`.
  private func columns(at a: [[Double]], base: [Double]) -> [[Double]] {
    let scale = a.flatMap { $0 }.map(abs).max() ?? 1
    let eps = 1e-7 * max(scale, 1e-300)
    let n = a.count
    return (0..<(n * n)).map { j in
      var step = [Double](repeating: 0, count: n * n)
      step[j] = eps
      guard let moved = residual(shifted(a, by: step)) else { return [Double](repeating: 0, count: base.count) }
      return zip(moved.values, base).map { ($0 - $1) / eps }
    }
  }

  private func shifted(_ a: [[Double]], by step: [Double]) -> [[Double]] {
    let n = a.count
    return (0..<n).map { i in (0..<n).map { j in a[i][j] + step[i * n + j] } }
  }

  /// `(softmax(W·h + bias) − e_label) / B`; `h` may carry the bias's constant feature last.
  private func outputGradient(features h: [Double], label: Int) -> [Double] {
    let f = stage.inputCount
    let logits = (0..<stage.outputs).map { c in
      (0..<f).reduce(stage.bias?[c] ?? 0) { $0 + stage.weight[c * f + $1] * h[$1] }
    }
    let m = logits.max() ?? 0
    let e = logits.map { Foundation.exp($0 - m) }
    let total = e.reduce(0, +)
    return e.indices.map { (e[$0] / total - ($0 == label ? 1 : 0)) / Double(labels.count) }
  }

  private func dot(_ x: [Double], _ y: [Double]) -> Double { zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } }
}
