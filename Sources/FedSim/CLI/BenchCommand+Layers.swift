import FedSimKit
import Foundation

extension Bench {
  /// The rows printed: the longest, down to the first under 1% of the evaluation.
  static let layerRows = 25

  func printLayers(_ r: BigModelLayers.Result) throws {
    if json { return try printJSONLine(r) }
    print(String(
      format: "layers  %@  %.0f ms an evaluation (%d evals, %d thread%@): products %.0f ms (%.0f%%), the rest %.0f ms",
      r.model, r.msPerEval, r.evals, r.threads, r.threads == 1 ? "" : "s", r.productMsPerEval,
      100 * r.productMsPerEval / r.msPerEval, r.msPerEval - r.productMsPerEval))
    let shown = r.rows.prefix(Self.layerRows).filter { $0.share >= 0.01 }
    for row in shown {
      print(String(
        format: "  %6.1f ms %5.1f%%  %5.1f GFLOP/s  %4.1f calls  %@", row.msPerEval, 100 * row.share, row.gflops,
        row.callsPerEval, row.work))
    }
    if shown.count < r.rows.count {
      let rest = r.rows.dropFirst(shown.count)
      print(String(format: "  %6.1f ms in %d more", rest.reduce(0) { $0 + $1.msPerEval }, rest.count))
    }
  }
}
