import CGatherProduct

/// How far apart the first two CPUs this process may use are: the time a write on one takes to
/// be seen on the other (`fedsim_core_latency`). On a virtual machine the host moves its virtual
/// CPUs from core to core; `fedsim bench --big-scaling` reads this before and after each round,
/// since work split between two threads gains much less from the second core when the two are
/// apart (docs/results.md).
public enum CoreLatency {
  /// A reading: the mean time of a pass, in ns, over the passes made each way.
  public struct Reading: Sendable {
    public let nanoseconds: Double
    public let passes: Int
  }

  /// One reading over `passes` passes each way, or the passes made before `limitMs` of wall time
  /// (a loaded machine makes each pass wait for the scheduler, and the reading large); nil when
  /// the process has fewer than two CPUs or the probe's threads could not be held to them.
  public static func read(passes: Int = 20_000, limitMs: Double = 50) -> Reading? {
    precondition((1...Int(Int32.max)).contains(passes), "CoreLatency: 1 to Int32.max passes")
    precondition(limitMs > 0 && limitMs < 3_600_000, "CoreLatency: a limit of 0 to an hour")
    var made: Int64 = 0
    let t = fedsim_core_latency(Int32(passes), Int64(limitMs * 1e6), &made)
    return t >= 0 ? Reading(nanoseconds: t, passes: Int(made)) : nil
  }

  /// `read(passes:limitMs:)`'s time alone.
  public static func nanoseconds(passes: Int = 20_000, limitMs: Double = 50) -> Double? {
    read(passes: passes, limitMs: limitMs)?.nanoseconds
  }
}
