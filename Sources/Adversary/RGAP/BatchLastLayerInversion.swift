import COpenBLAS
import Foundation
import Tensors

/// R-GAP's first step for a batch of `B` images: each image's input `h_b` to the last linear
/// layer, and its `k_b = ∂L/∂logits_b`, from the shared gradient `G = ∂L/∂W = Σ_b k_b·h_bᵀ`
/// (with `∂L/∂bias = Σ_b k_b` as one more column of `G` when there is a bias, read as a
/// feature that is always 1).
///
/// `G` has rank `B`, and its column space is the span of the `k_b`. With an orthonormal basis
/// `E` of that span (`B × classes`, from the eigenvectors of `G·Gᵀ`) and `C = E·G`, every
/// candidate is `K = A·E` for a `B × B` matrix `A`, whose features are `H = A⁻ᵀ·C` (then
/// `Kᵀ·H = G` exactly). The one `A` that holds is the one whose features give back its own
/// output gradients, `k_b = (softmax(W·h_b + bias) − e_{y_b})/B` with soft-max cross-entropy
/// averaged over the batch: `B²` unknowns, `B·classes` equations, solved by Levenberg–Marquardt.
/// The labels only pick each row's negative entry, so images of one class are told apart by
/// their predictions; a start from the uniform prediction cannot tell them apart, so further
/// starts draw random predictions.
enum BatchLastLayerInversion {
  struct Solution {
    var inputs: [[Double]]
    var outputGradients: [[Double]]
    var labels: [Int]
    var report: RGAPLayerReport
  }

  static func invert(_ s: LinearStage, labels counted: [Int], meanPrediction: [Double]?, starts: Int = 16) throws(RGAPError) -> Solution {
    let shared = sharedRows(s)
    let batch = counted.count
    let basis = try spanBasis(shared, rank: batch)
    // Two readings of the labels (the span's holds while predictions stay near their mean, the
    // counting rule's otherwise): the second is fitted only when the first does not fit, and
    // the one whose fit explains the gradient better is kept.
    let read = meanPrediction.map { SpanLabels.read(basis: basis, meanPrediction: $0, counted: counted) }
    var kept: (labels: [Int], fit: BatchLastLayerFit, result: BatchLastLayerFit.Result)?
    for labels in [read, counted].compactMap({ $0?.sorted() }) {
      if let kept, kept.labels == labels || kept.result.misfit < fitted { continue }
      let fit = BatchLastLayerFit(stage: s, labels: labels, basis: basis, shared: shared)
      if let result = bestFit(fit, stage: s, labels: labels, starts: starts), result.misfit < kept?.result.misfit ?? .infinity {
        kept = (labels, fit, result)
      }
    }
    guard let (labels, fit, best) = kept else {
      throw .gradient("the last layer's gradient does not separate the batch's \(batch) images")
    }
    // Determined when the features give their own output gradients back, and those give the
    // shared gradient back (its part outside the span is what a batch of `B` cannot explain).
    // Images of one class are told apart only by their predictions: where those differ by less
    // than `separationFloor` of the gradient's scale, single-precision gradients leave the mix
    // of their features open, and each such image beyond the first is counted as lost.
    let settled = best.misfit < 1e-4 && fit.outsideShare() < 1e-4
    let (f, width) = (s.inputCount, shared.first?.count ?? 0)
    let separation = separation(best.outputGradients, labels: labels)
    let lost = separation < separationFloor ? batch - Set(labels).count : 0
    let report = RGAPLayerReport(
      layer: s.name, unknowns: batch * f, equations: s.outputs * width, rank: settled ? (batch - lost) * f : 0,
      conditioning: settled ? separation : 0)
    return Solution(
      inputs: best.features.map { Array($0.prefix(f)) }, outputGradients: best.outputGradients, labels: labels, report: report)
  }

  /// A fit's misfit below which it is taken as exact (no further starts, no other labels).
  static let fitted = 1e-5

  /// The best of up to `starts` fits: from the uniform prediction (distinct labels), then from
  /// random ones, stopping at the first that fits.
  private static func bestFit(_ fit: BatchLastLayerFit, stage s: LinearStage, labels: [Int], starts: Int) -> BatchLastLayerFit.Result? {
    var generator = SeededGenerator(seed: 0)
    var best: BatchLastLayerFit.Result?
    for start in 0..<starts {
      let spread = start == 0 && Set(labels).count == labels.count ? 0 : 0.5
      let k0 = startingGradients(s, labels: labels, spread: spread, generator: &generator)
      guard let found = fit.solve(from: k0) else { continue }
      if found.misfit < best?.misfit ?? .infinity { best = found }
      if found.misfit < fitted { break }
    }
    return best
  }

  /// How far apart a batch's output gradients are, for images of one class: the least
  /// largest difference between two of them, over the largest entry (1 when labels differ).
  static func separation(_ k: [[Double]], labels: [Int]) -> Double {
    let scale = k.flatMap { $0 }.map(abs).max() ?? 0
    var least = 1.0
    for a in k.indices {
      for b in k.indices where b > a && labels[a] == labels[b] {
        least = min(least, (zip(k[a], k[b]).map { abs($0 - $1) }.max() ?? 0) / max(scale, 1e-300))
      }
    }
    return least
  }

  /// The least separation at which images of one class are taken as told apart.
  static let separationFloor = 1e-2

  /// The shared gradient, class by class, with the bias gradient as one more column.
  private static func sharedRows(_ s: LinearStage) -> [[Double]] {
    let f = s.inputCount
    return (0..<s.outputs).map { c in Array(s.weightGradient[(c * f)..<((c + 1) * f)]) + (s.biasGradient.map { [$0[c]] } ?? []) }
  }

  /// `(p_b − e_{y_b})/B` from the uniform prediction, or from a random one (logits drawn
  /// uniformly in ±`spread`).
  private static func startingGradients(_ s: LinearStage, labels: [Int], spread: Double, generator: inout SeededGenerator) -> [[Double]] {
    labels.map { y in
      let e = (0..<s.outputs).map { _ in Foundation.exp(spread * (2 * generator.nextUnitDouble() - 1)) }
      let total = e.reduce(0, +)
      return e.indices.map { (e[$0] / total - ($0 == y ? 1 : 0)) / Double(labels.count) }
    }
  }

  /// The `rank` leading eigenvectors of `G·Gᵀ`, an orthonormal basis of `G`'s column space.
  private static func spanBasis(_ g: [[Double]], rank: Int) throws(RGAPError) -> [[Double]] {
    let o = g.count
    guard rank <= o else {
      throw .gradient("a batch of \(rank) images needs at least as many classes; the last layer has \(o)")
    }
    var gram = [Double](repeating: 0, count: o * o)
    for a in 0..<o {
      for b in a..<o {
        let v = zip(g[a], g[b]).reduce(0) { $0 + $1.0 * $1.1 }
        (gram[a * o + b], gram[b * o + a]) = (v, v)
      }
    }
    var values = [Double](repeating: 0, count: o)
    var (n, lwork, info) = (Int32(o), Int32(max(1, 3 * o) * 8), Int32(0))
    var work = [Double](repeating: 0, count: Int(lwork))
    var (jobz, uplo) = (CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")))
    var lda = n
    BLAS.oneThreadPerCall()
    dsyev_(&jobz, &uplo, &n, &gram, &lda, &values, &work, &lwork, &info)
    guard info == 0 else { throw .solver("LAPACK dsyev failed (info \(info)) on the last layer's gradient") }
    // Ascending eigenvalues; column j of the column-major result is eigenvector j.
    return ((o - rank)..<o).reversed().map { j in Array(gram[(j * o)..<((j + 1) * o)]) }
  }
}
