import Foundation
import Tensors

/// How much faster one big-model DLG evaluation runs on `threads` threads than on one, measured
/// in one process: each round times evaluations at one thread, then at `threads`, so that each
/// round's ratio is taken in one state of the machine. On a shared machine the time of one
/// evaluation moves by a quarter from minute to minute; separate runs at one and two threads
/// then give ratios anywhere in that range. Each evaluation's time is also split into its parts
/// (`KernelTimes`: products, passes, the rest), so that the figure says which part falls short.
public enum BigModelScaling {
  /// One part of an evaluation (`KernelTimes`): the median over rounds of its ms per evaluation
  /// at one thread and at `threads`.
  public struct Part: Sendable, Codable {
    public var name: String
    public var oneThreadMs: Double
    public var threadsMs: Double
    /// `oneThreadMs / threadsMs`.
    public var ratio: Double
    /// This part's share of the one-thread time (the parts' medians summed).
    public var share: Double

    enum CodingKeys: String, CodingKey {
      case name, oneThreadMs = "one_thread_ms", threadsMs = "threads_ms", ratio, share
    }
  }

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
    /// Products, passes and the rest, in that order.
    public var parts: [Part]
    /// The thread time the split work (products and passes) took: `oneThreadMs` at one thread;
    /// `threadsMs`, the measured thread's share less its waits plus the other threads' parts;
    /// `ratio`, `threadsMs / oneThreadMs` (1 when each thread runs its share as fast as one thread
    /// alone ran all of it); `share`, the waits' part of the split work's time at `threads`.
    public var threadWork: Part
    /// Each round's ratio of the passes alone, and of an add pass from memory timed right after
    /// the round's evaluations (`BandwidthScaling.ratio`): the memory bandwidth two cores get
    /// moves with the machine's other tenants, so each round's passes are set beside what the
    /// memory allowed then.
    public var roundPassRatios: [Double]
    public var roundMemoryRatios: [Double]
    /// Each round's short add pass at `threads` (`BandwidthScaling.short`), µs, timed right after
    /// the memory's: where the host has put the two cores shows in it (beside each other, about
    /// 0.8 µs; apart, without a shared cache, about 1.7 µs, and each core then gets its own share of
    /// the memory's bandwidth).
    public var roundShortPassMicroseconds: [Double]
    /// Each round's median evaluation (ms) with `threads` independent evaluations running at once,
    /// one a thread (`Prepared.concurrentEvaluations`), timed right after the round's split ones.
    public var roundConcurrentMs: [Double]
    /// Each round's ceiling (`ceiling(oneThreadMs:concurrentMs:threads:)`): the throughput of
    /// `threads` independent evaluations against one alone, the most a split could reach then.
    public var roundCeilings: [Double]
    /// The median of `roundCeilings`, and the median over rounds of each round's ratio over its
    /// ceiling: how much of what the machine allowed the split reached.
    public var ceiling: Double
    public var ofCeiling: Double
    /// The cores' latency (`CoreLatency`, ns) read right before each round's evaluations at
    /// `threads` and right after them (nil on a machine of one CPU), and each round's placement
    /// from them (`placements`).
    public var roundCoreLatencyBefore: [Double?]
    public var roundCoreLatencyAfter: [Double?]
    public var roundPlacements: [Placement]?
    /// Two CPUs' FMAs at once over one's (`CoreSharing`), read right before each round's
    /// evaluations at `threads` and right after them (nil without two CPUs or AVX2), and whether
    /// each round ran on two whole cores (`onWholeCores`).
    public var roundCoreSharingBefore: [Double?]
    public var roundCoreSharingAfter: [Double?]
    public var roundOnWholeCores: [Bool]?

    enum CodingKeys: String, CodingKey {
      case benchmark, impl, model, size, batch, threads
      case evalsPerRound = "evals_per_round", oneThreadMs = "one_thread_ms", threadsMs = "threads_ms"
      case roundRatios = "round_ratios", ratio, parts, threadWork = "thread_work"
      case roundPassRatios = "round_pass_ratios", roundMemoryRatios = "round_memory_ratios"
      case roundShortPassMicroseconds = "round_short_pass_us"
      case roundConcurrentMs = "round_concurrent_ms", roundCeilings = "round_ceilings", ceiling
      case ofCeiling = "of_ceiling", roundCoreLatencyBefore = "round_core_latency_before_ns"
      case roundCoreLatencyAfter = "round_core_latency_after_ns", roundPlacements = "round_placements"
      case roundCoreSharingBefore = "round_core_sharing_before", roundCoreSharingAfter = "round_core_sharing_after"
      case roundOnWholeCores = "round_on_whole_cores"
    }
  }

  /// `rounds` rounds of `evals` evaluations at one thread, `evals` at `threads`, and `evals` on
  /// each of `threads` threads at once, on a model prepared (built and warmed up) once. Leaves
  /// `BLAS.threads` at `threads`.
  public static func run(_ prepared: BigModelBenchmark.Prepared, threads: Int, rounds: Int, evals: Int) -> Result {
    var one: [Double] = [], many: [Double] = []
    var oneSplits: [KernelTimes.Split] = [], manySplits: [KernelTimes.Split] = []
    var memory: [Double] = [], short: [Double] = [], concurrent: [Double] = []
    var before: [Double?] = [], after: [Double?] = [], sharedBefore: [Double?] = [], sharedAfter: [Double?] = []
    for _ in 0..<rounds {
      BLAS.threads = 1
      let (t1, s1) = KernelTimes.measure { prepared.evaluationTimes(evals) }
      BLAS.threads = threads
      before.append(coreLatency())
      sharedBefore.append(CoreSharing.ratio())
      let (t2, s2) = KernelTimes.measure { prepared.evaluationTimes(evals) }
      sharedAfter.append(CoreSharing.ratio())
      after.append(coreLatency())
      one.append(median(t1))
      many.append(median(t2))
      oneSplits.append(s1)
      manySplits.append(s2)
      concurrent.append(median(prepared.concurrentEvaluations(evals, copies: threads).times))
      memory.append(BandwidthScaling.ratio(BandwidthScaling.memory, threads: threads))
      short.append(BandwidthScaling.passMicroseconds(BandwidthScaling.short, threads: threads))
    }
    let ratios = zip(one, many).map { $0 / $1 }
    let ceilings = zip(one, concurrent).map { ceiling(oneThreadMs: $0, concurrentMs: $1, threads: threads) }
    let c = prepared.c
    return Result(
      model: c.model, size: c.size, batch: c.batch, threads: threads, evalsPerRound: evals, oneThreadMs: one,
      threadsMs: many, roundRatios: ratios, ratio: median(ratios),
      parts: parts(one: oneSplits, many: manySplits, evals: evals),
      threadWork: threadWork(one: oneSplits, many: manySplits, evals: evals),
      roundPassRatios: zip(oneSplits, manySplits).map { $0.passes / $1.passes }, roundMemoryRatios: memory,
      roundShortPassMicroseconds: short, roundConcurrentMs: concurrent, roundCeilings: ceilings,
      ceiling: median(ceilings), ofCeiling: median(zip(ratios, ceilings).map { $0 / $1 }),
      roundCoreLatencyBefore: before, roundCoreLatencyAfter: after,
      roundPlacements: placements(before: before, after: after), roundCoreSharingBefore: sharedBefore,
      roundCoreSharingAfter: sharedAfter, roundOnWholeCores: onWholeCores(before: sharedBefore, after: sharedAfter))
  }

  /// The throughput of `threads` independent evaluations, each `concurrentMs` long, against one
  /// alone at `oneThreadMs`: `threads · oneThreadMs / concurrentMs`.
  public static func ceiling(oneThreadMs: Double, concurrentMs: Double, threads: Int) -> Double {
    Double(threads) * oneThreadMs / concurrentMs
  }

  /// Each part's median ms per evaluation over the rounds' splits (each over `evals` evaluations).
  public static func parts(one: [KernelTimes.Split], many: [KernelTimes.Split], evals: Int) -> [Part] {
    let named: [(String, (KernelTimes.Split) -> Double)] = [("products", \.products), ("passes", \.passes), ("rest", \.rest)]
    let ms = { (splits: [KernelTimes.Split], part: (KernelTimes.Split) -> Double) in
      median(splits.map { perEvaluationMs(part($0), evals: evals) })
    }
    let medians = named.map { (name, part) in (name, ms(one, part), ms(many, part)) }
    let total = medians.reduce(0) { $0 + $1.1 }
    return medians.map { Part(name: $0.0, oneThreadMs: $0.1, threadsMs: $0.2, ratio: $0.1 / $0.2, share: $0.1 / total) }
  }

  /// The split work's thread time per evaluation (`Result.threadWork`), medians over the rounds.
  public static func threadWork(one: [KernelTimes.Split], many: [KernelTimes.Split], evals: Int) -> Part {
    let alone = median(one.map { perEvaluationMs($0.products + $0.passes, evals: evals) })
    let together = median(many.map { perEvaluationMs($0.products + $0.passes - $0.waiting + $0.helped, evals: evals) })
    let waits = median(many.map { $0.waiting / Swift.max($0.products + $0.passes, 1e-12) })
    return Part(name: "thread work", oneThreadMs: alone, threadsMs: together, ratio: together / alone, share: waits)
  }

  /// Ms per evaluation of `seconds` over `evals` evaluations.
  private static func perEvaluationMs(_ seconds: Double, evals: Int) -> Double { 1000 * seconds / Double(evals) }

  /// The middle value (the mean of the middle two for an even count); NaN when empty.
  public static func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  }
}
