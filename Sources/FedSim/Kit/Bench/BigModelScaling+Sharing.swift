import Tensors

/// Whether each round of `BigModelScaling` ran on two whole cores: `CoreSharing` read right
/// before the round's evaluations at several threads and right after them. A host may run a
/// guest's two virtual CPUs on one core for minutes at a time (two FMA loops at once then issue
/// about one loop's FMAs), and a round there says nothing of how FedSim's split work scales. On
/// an Intel host the readings were ×1.9–2.0 or ×1.0, and nothing between (docs/results.md).
extension BigModelScaling {
  /// The least reading, before and after, for a round to count as run on two whole cores.
  public static let wholeCores = 1.7

  /// Each round's readings on whole cores (both at least `wholeCores`); nil throughout when a
  /// reading is missing (one CPU, or no AVX2).
  public static func onWholeCores(before: [Double?], after: [Double?]) -> [Bool]? {
    precondition(before.count == after.count, "a sharing reading before and after each round")
    var whole: [Bool] = []
    for (b, a) in zip(before, after) {
      guard let b, let a else { return nil }
      whole.append(b >= wholeCores && a >= wholeCores)
    }
    return whole
  }
}
