@testable import Adversary
import Testing

/// Reading a batch's classes off the span of the last layer's gradient.
@Suite("Labels from the gradient's span")
struct SpanLabelsTests {
  /// An orthonormal basis (Gram–Schmidt) of the span of `p̄ − e_c` for the given classes.
  func basis(_ classes: [Int], mean p: [Double]) -> [[Double]] {
    var rows: [[Double]] = []
    for c in classes {
      var v = p.indices.map { p[$0] - ($0 == c ? 1 : 0) }
      for e in rows {
        let d = zip(e, v).reduce(0) { $0 + $1.0 * $1.1 }
        v = zip(v, e).map { $0 - d * $1 }
      }
      let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
      rows.append(v.map { $0 / n })
    }
    return rows
  }

  let mean = [0.08, 0.12, 0.1, 0.09, 0.11, 0.1, 0.1, 0.1, 0.1, 0.1]

  @Test("distinct classes: the span's classes, whatever the counting rule said")
  func distinct() {
    let labels = SpanLabels.read(basis: basis([7, 2, 5], mean: mean), meanPrediction: mean, counted: [1, 2, 5])
    #expect(labels == [2, 5, 7])
  }

  @Test("a repeated class: the span's two classes, the repeat from the counting rule")
  func repeated() {
    let labels = SpanLabels.read(basis: basis([2, 5], mean: mean) + [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], meanPrediction: mean, counted: [5, 5, 9])
    #expect(labels == [2, 5, 5])
  }

  @Test("the share outside a span: 0 inside, 1 orthogonal to it")
  func share() {
    let e = [[1.0, 0, 0], [0, 1, 0]]
    #expect(abs(SpanLabels.share(outsideOf: e, [3, 4, 0])) < 1e-12)
    #expect(abs(SpanLabels.share(outsideOf: e, [0, 0, 2]) - 1) < 1e-12)
  }
}
