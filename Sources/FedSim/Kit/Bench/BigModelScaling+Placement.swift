import Tensors

/// Where the host had put the two cores in each round of `BigModelScaling`: the cores' latency
/// (`CoreLatency`) read right before the round's evaluations at several threads and right after
/// them (the host moves its virtual CPUs within seconds). A round whose two readings are both
/// within `nearestSpread` of the least reading of the run ran on the nearest cores the run saw;
/// one whose two readings are both past it ran on cores farther apart; a round with one of each
/// was moved during the round and joins neither group. A run whose readings all lie within
/// `nearestSpread` of its least saw one placement throughout, which may be the farther one: its
/// rounds are `alike`, never called nearest. On the machine FedSim is measured on, the readings
/// are 30–50 ns or 160–180 ns, and nothing between; the readings themselves say which.
extension BigModelScaling {
  /// How much above the run's least latency a reading may be and still count as the nearest.
  public static let nearestSpread = 1.5

  public enum Placement: String, Sendable, Codable {
    case nearest, farther, moved
    /// One placement the whole run (no reading past `nearestSpread` of the least): which, the
    /// readings say.
    case alike
  }

  /// The median of `readings` readings of the cores' latency (`CoreLatency`, ns): a reading now
  /// and then takes a slice of the scheduler's time. Nil when a reading could not be had.
  public static func coreLatency(readings: Int = 5) -> Double? {
    var values: [Double] = []
    for _ in 0..<readings {
      guard let ns = CoreLatency.nanoseconds() else { return nil }
      values.append(ns)
    }
    return median(values)
  }

  /// Each round's placement from its latencies before and after (ns); nil throughout when a
  /// reading is missing (a machine of one CPU).
  public static func placements(before: [Double?], after: [Double?]) -> [Placement]? {
    precondition(before.count == after.count, "a latency before and after each round")
    let readings = (before + after).compactMap { $0 }
    guard readings.count == before.count + after.count, let least = readings.min(), let most = readings.max() else {
      return nil
    }
    if most <= least * nearestSpread { return Array(repeating: .alike, count: before.count) }
    let near = { (ns: Double) in ns <= least * nearestSpread }
    return zip(before.compactMap { $0 }, after.compactMap { $0 }).map { b, a in
      switch (near(b), near(a)) {
      case (true, true): .nearest
      case (false, false): .farther
      default: .moved
      }
    }
  }

  /// The median of `ratios` over the rounds labelled `label` (a placement, or whether on whole
  /// cores: `onWholeCores`), and how many there were (NaN when none).
  public static func ratio<Label: Equatable>(_ ratios: [Double], in labels: [Label], _ label: Label) -> (Double, Int) {
    let these = zip(ratios, labels).filter { $0.1 == label }.map(\.0)
    return (median(these), these.count)
  }
}
