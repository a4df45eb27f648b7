import Foundation

/// R-GAP's first step for a batch of `B` images with distinct labels: each image's input to the
/// last linear layer, and its `k_b = ∂L/∂logits_b`, from the shared gradient
/// `∂L/∂W = Σ_b k_b·h_bᵀ` (and `∂L/∂bias = Σ_b k_b` when there is a bias, read as a feature
/// that is always 1).
///
/// With soft-max cross-entropy averaged over the batch, `k_b = (softmax(W·h_b + bias) − e_{y_b})/B`.
/// Given the `k_b`, the `h_b` are the least-squares solution of `Kᵀ·H = ∂L/∂W` (a `B × B`
/// system, solvable when the `k_b` are independent, which distinct labels make them); given the
/// `h_b`, the `k_b` follow from the forward pass. FedSim alternates the two from the uniform
/// prediction `p_b = 1/classes` until the `k_b` stop changing. Each image's row is known only
/// with its label, so two images of one class cannot be told apart: duplicates are refused.
enum BatchLastLayerInversion {
  struct Solution {
    var inputs: [[Double]]
    var outputGradients: [[Double]]
    var report: RGAPLayerReport
  }

  static func invert(_ s: LinearStage, labels: [Int], iterations: Int = 2000) throws(RGAPError) -> Solution {
    let (o, f, batch) = (s.outputs, s.inputCount, labels.count)
    guard Set(labels).count == batch else { throw .duplicateLabels(labels) }
    let width = f + (s.biasGradient == nil ? 0 : 1)
    // The shared gradient, class by class, with the bias gradient as one more column.
    let shared = (0..<o).map { c in Array(s.weightGradient[(c * f)..<((c + 1) * f)]) + (s.biasGradient.map { [$0[c]] } ?? []) }
    var k = labels.map { y in (0..<o).map { c in (1 / Double(o) - (c == y ? 1 : 0)) / Double(batch) } }
    var h = [[Double]](repeating: [Double](repeating: 0, count: width), count: batch)
    for _ in 0..<iterations {
      h = try features(k: k, shared: shared, width: width)
      let next = zip(h, labels).map { outputGradient(s, features: Array($0.prefix(f)), label: $1, batch: batch) }
      let change = zip(next, k).map { zip($0, $1).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
      k = next
      if change <= 1e-16 { break }
    }
    h = try features(k: k, shared: shared, width: width)
    var residual = 0.0, size = 0.0
    for c in 0..<o {
      for i in 0..<width {
        let e = (0..<batch).reduce(0) { $0 + k[$1][c] * h[$1][i] } - shared[c][i]
        (residual, size) = (residual + e * e, size + shared[c][i] * shared[c][i])
      }
    }
    // Determined when the alternation has settled on features that give the shared gradient
    // back (to single precision); otherwise nothing below can be trusted.
    let settled = size > 0 && (residual / size).squareRoot() < 1e-4
    let report = RGAPLayerReport(
      layer: s.name, unknowns: batch * f, equations: o * width, rank: settled ? batch * f : 0, conditioning: settled ? 1 : 0)
    return Solution(inputs: h.map { Array($0.prefix(f)) }, outputGradients: k, report: report)
  }

  /// `H` from `Kᵀ·H = shared` by least squares: `(K·Kᵀ)·H = K·shared`.
  private static func features(k: [[Double]], shared: [[Double]], width: Int) throws(RGAPError) -> [[Double]] {
    let batch = k.count
    var gram = (0..<batch).map { a in (0..<batch).map { b in zip(k[a], k[b]).reduce(0) { $0 + $1.0 * $1.1 } } }
    var rhs = (0..<batch).map { a in
      (0..<width).map { i in k[a].indices.reduce(0) { $0 + k[a][$1] * shared[$1][i] } }
    }
    // Gaussian elimination with partial pivoting on the small B × B system.
    for col in 0..<batch {
      guard let pivot = (col..<batch).max(by: { abs(gram[$0][col]) < abs(gram[$1][col]) }), abs(gram[pivot][col]) > 1e-300 else {
        throw .gradient("the last layer's gradient does not separate the batch's images")
      }
      gram.swapAt(col, pivot)
      rhs.swapAt(col, pivot)
      for r in (col + 1)..<batch {
        let m = gram[r][col] / gram[col][col]
        for j in col..<batch { gram[r][j] -= m * gram[col][j] }
        for i in 0..<width { rhs[r][i] -= m * rhs[col][i] }
      }
    }
    for col in (0..<batch).reversed() {
      for i in 0..<width {
        let known = ((col + 1)..<batch).reduce(0) { $0 + gram[col][$1] * rhs[$1][i] }
        rhs[col][i] = (rhs[col][i] - known) / gram[col][col]
      }
    }
    return rhs
  }

  /// `(softmax(W·h + bias) − e_label) / batch`.
  private static func outputGradient(_ s: LinearStage, features h: [Double], label: Int, batch: Int) -> [Double] {
    let f = s.inputCount
    let logits = (0..<s.outputs).map { c in
      (0..<f).reduce(s.bias?[c] ?? 0) { $0 + s.weight[c * f + $1] * h[$1] }
    }
    let m = logits.max() ?? 0
    let e = logits.map { Foundation.exp($0 - m) }
    let total = e.reduce(0, +)
    return e.indices.map { (e[$0] / total - ($0 == label ? 1 : 0)) / Double(batch) }
  }
}
