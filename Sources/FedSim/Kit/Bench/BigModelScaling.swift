import Foundation
import Tensors

/// How much faster one big-model DLG evaluation runs on `threads` threads than on one, measured
/// in one process: each round times evaluations at one thread, then at `threads`, so that each
/// round's ratio is taken in one state of the machine. On a shared machine the time of one
/// evaluation moves by a quarter from minute to minute; separate runs at one and two threads
/// then give ratios anywhere in that range.
public enum BigModelScaling {
  public struct Result: Sendable, Codable {
    public var benchmark = "dlg_objective_big_scaling"
    public var impl = "fedsim"
    public var model: String
    public var size: Int
    public var batch: Int
    public var threads: Int
    public var evalsPerRound: Int
    /// Each round's median evaluation (ms) at one thread and at `threads`.
    public var oneThreadMs: [Double]
    public var threadsMs: [Double]
    /// Each round's one-thread median over its `threads` median.
    public var roundRatios: [Double]
    /// The median of `roundRatios`.
    public var ratio: Double

    enum CodingKeys: String, CodingKey {
      case benchmark, impl, model, size, batch, threads
      case evalsPerRound = "evals_per_round", oneThreadMs = "one_thread_ms", threadsMs = "threads_ms"
      case roundRatios = "round_ratios", ratio
    }
  }

  /// `rounds` rounds of `evals` evaluations at one thread and `evals` at `threads`, on a model
  /// prepared (built and warmed up) once. Leaves `BLAS.threads` at `threads`.
  public static func run(_ prepared: BigModelBenchmark.Prepared, threads: Int, rounds: Int, evals: Int) -> Result {
    var one: [Double] = [], many: [Double] = []
    for _ in 0..<rounds {
      BLAS.threads = 1
      one.append(median(prepared.evaluationTimes(evals)))
      BLAS.threads = threads
      many.append(median(prepared.evaluationTimes(evals)))
    }
    let ratios = zip(one, many).map { $0 / $1 }
    let c = prepared.c
    return Result(
      model: c.model, size: c.size, batch: c.batch, threads: threads, evalsPerRound: evals, oneThreadMs: one,
      threadsMs: many, roundRatios: ratios, ratio: median(ratios))
  }

  /// The middle value (the mean of the middle two for an even count); NaN when empty.
  public static func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  }
}
