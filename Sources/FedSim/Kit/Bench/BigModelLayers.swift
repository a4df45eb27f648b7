import Tensors

/// Where one evaluation's product time goes on a big model, work by work (`LayerTimes`): each
/// convolution pass by shape and by the way it was computed, each other matrix product by shape,
/// in ms an evaluation and at what rate. `fedsim bench --big-layers`.
public enum BigModelLayers {
  public struct Row: Codable, Sendable, Equatable {
    public let work: String
    public let callsPerEval: Double
    public let msPerEval: Double
    /// Of the direct computation's FLOPs (a Winograd layer's rate counts those it replaces).
    public let gflops: Double
    public let share: Double

    enum CodingKeys: String, CodingKey {
      case work, callsPerEval = "calls_per_eval", msPerEval = "ms_per_eval", gflops, share
    }
  }

  public struct Result: Codable, Sendable {
    public var benchmark = "dlg_objective_big_layers"
    public var impl = "fedsim"
    public let model: String
    public let threads: Int
    public let evals: Int
    public let msPerEval: Double
    /// Of `msPerEval`, in the rows (the rest is passes and bookkeeping).
    public let productMsPerEval: Double
    public let rows: [Row]

    enum CodingKeys: String, CodingKey {
      case benchmark, impl, model, threads, evals, msPerEval = "ms_per_eval", productMsPerEval = "product_ms_per_eval", rows
    }
  }

  /// `evals` evaluations of `prepared` at the current threads, their work measured.
  public static func run(_ prepared: BigModelBenchmark.Prepared, evals: Int) -> Result {
    let (times, rows) = LayerTimes.measure { prepared.evaluationTimes(evals) }
    return result(model: prepared.c.model, threads: BLAS.threads, times: times, rows: rows)
  }

  /// The rows per evaluation, the longest first.
  public static func result(model: String, threads: Int, times: [Double], rows: [LayerTimes.Row]) -> Result {
    let n = Double(Swift.max(1, times.count))
    let total = times.reduce(0, +) / n
    let perEval = rows.map {
      Row(
        work: $0.work, callsPerEval: Double($0.calls) / n, msPerEval: 1000 * $0.seconds / n,
        gflops: $0.seconds > 0 ? Double($0.flops) / $0.seconds / 1e9 : 0,
        share: total > 0 ? 1000 * $0.seconds / n / total : 0)
    }
    return Result(
      model: model, threads: threads, evals: times.count, msPerEval: total,
      productMsPerEval: perEval.reduce(0) { $0 + $1.msPerEval }, rows: perEval.sorted { $0.msPerEval > $1.msPerEval })
  }
}
