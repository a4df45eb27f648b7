import Tensors

/// How much faster a memory-bound pass (`MemoryBandwidth.addPass`) runs on `threads` threads than
/// on one: over arrays so short that handing half to another thread costs about as much as the
/// half itself (what a pass costs to start and join), over arrays that stay in the shared cache
/// and over arrays that come from memory, set beside the passes between a model's products.
/// Alternated in rounds in one process, as `BigModelScaling` does.
public enum BandwidthScaling {
  public struct Result: Sendable, Codable {
    public var benchmark = "add_pass_bandwidth_scaling"
    public var impl = "fedsim"
    /// "short", "cache" or "memory".
    public var placement: String
    /// Each of the two arrays.
    public var megabytes: Double
    public var threads: Int
    /// Medians over the rounds, in GB/s (two arrays read, one written).
    public var oneThreadGBps: Double
    public var threadsGBps: Double
    /// The median of the rounds' ratios.
    public var ratio: Double
    /// One pass, in µs, at those medians.
    public var oneThreadMicroseconds: Double
    public var threadsMicroseconds: Double

    enum CodingKeys: String, CodingKey {
      case benchmark, impl, placement, megabytes, threads, ratio
      case oneThreadGBps = "one_thread_gbps", threadsGBps = "threads_gbps"
      case oneThreadMicroseconds = "one_thread_us", threadsMicroseconds = "threads_us"
    }
  }

  /// Where the arrays lie, each of `bytes`, and the timed passes over them.
  public typealias Placement = (name: String, bytes: Int, passes: Int)
  /// Two arrays of 64 KiB (16,384 elements, in a core's L2), each pass about a microsecond at one
  /// thread: at two, what is left of the halving is what starting and joining a pass costs.
  public static let short: Placement = ("short", 64 << 10, 40_000)
  /// Two arrays of 4 MiB (8 MiB in all: past a core's L2 on the machines FedSim is measured on,
  /// within their shared L3) and of 64 MiB (four times a 32 MiB L3), each timed long enough to
  /// take some tens of milliseconds.
  public static let cache: Placement = ("cache", 4 << 20, 200)
  public static let memory: Placement = ("memory", 64 << 20, 16)

  /// The three placements, `rounds` times each. The bench runs this after the models: the 128 MiB
  /// would otherwise be in their peak memory. Leaves `BLAS.threads` at `threads`.
  public static func run(threads: Int, rounds: Int) -> [Result] {
    [short, cache, memory].map { placement in
      var one: [Double] = [], many: [Double] = []
      for _ in 0..<rounds {
        let (a, b) = rates(placement, threads: threads)
        one.append(a)
        many.append(b)
      }
      return Result(
        placement: placement.name, megabytes: Double(placement.bytes) / Double(1 << 20), threads: threads,
        oneThreadGBps: BigModelScaling.median(one), threadsGBps: BigModelScaling.median(many),
        ratio: BigModelScaling.median(zip(many, one).map { $0 / $1 }),
        oneThreadMicroseconds: micros(placement, BigModelScaling.median(one)),
        threadsMicroseconds: micros(placement, BigModelScaling.median(many)))
    }
  }

  /// How much faster `threads` run the add pass over `placement` than one thread, once.
  public static func ratio(_ placement: Placement, threads: Int) -> Double {
    let (one, many) = rates(placement, threads: threads)
    return many / one
  }

  /// µs an add pass over `placement` takes at `threads` threads, once. Leaves `BLAS.threads` at
  /// `threads`.
  public static func passMicroseconds(_ placement: Placement, threads: Int) -> Double {
    micros(placement, rate(placement, threads: threads))
  }

  /// µs a pass over `placement` at `gbps` (two arrays read, one written).
  public static func micros(_ placement: Placement, _ gbps: Double) -> Double { 3 * Double(placement.bytes) / gbps / 1e3 }

  /// GB/s at one thread, then at `threads`.
  private static func rates(_ placement: Placement, threads: Int) -> (Double, Double) {
    let one = rate(placement, threads: 1)
    return (one, rate(placement, threads: threads))
  }

  /// GB/s of the add pass over `placement` at `threads` threads, once; leaves `BLAS.threads` there.
  private static func rate(_ placement: Placement, threads: Int) -> Double {
    BLAS.threads = threads
    return MemoryBandwidth.addPass(bytes: placement.bytes, passes: placement.passes)
  }
}
