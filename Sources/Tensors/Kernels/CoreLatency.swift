import CGatherProduct

/// How far apart the first two CPUs this process may use are: the time a write on one takes to
/// be seen on the other (`fedsim_core_latency`). On a virtual machine the host moves its virtual
/// CPUs from core to core; `fedsim bench --big-scaling` reads this before and after each round,
/// since work split between two threads gains much less from the second core when the two are
/// apart (docs/results.md).
public enum CoreLatency {
  /// The median, in ns, of `batches` probes of `passes` passes each way; nil when the process
  /// has fewer than two CPUs or a probe's threads could not be held to them.
  public static func nanoseconds(batches: Int = 5, passes: Int = 20_000) -> Double? {
    precondition(batches >= 1 && (1...Int(Int32.max)).contains(passes), "CoreLatency: at least one batch and one pass")
    var times: [Double] = []
    for _ in 0..<batches {
      let t = fedsim_core_latency(Int32(passes))
      guard t >= 0 else { return nil }
      times.append(t)
    }
    times.sort()
    return times[times.count / 2]
  }
}
