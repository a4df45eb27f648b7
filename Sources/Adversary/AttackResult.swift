import Tensors

/// What an attack reports after each iteration: the state whose distance it has just measured.
public struct AttackProgress: Sendable {
  /// Which start (0-based) this is.
  public var trial: Int
  /// Iterations completed in this start (0: the random dummy).
  public var iteration: Int
  /// The gradient distance (the method's own objective) at this point.
  public var distance: Double
  /// Evaluations of the objective so far, over all starts.
  public var evaluations: Int
  /// Seconds since the attack began.
  public var elapsed: Double
  /// The current dummy images `[B, C, H, W]`.
  public var reconstruction: Tensor
  /// The current labels (recovered, or the dummy label's arg-max for DLG).
  public var labels: [Int]
}

/// The outcome of an attack: the best point of the best start.
public struct AttackResult: Sendable {
  public var method: AttackMethod
  public var reconstruction: Tensor
  public var labels: [Int]
  /// The objective at the kept point.
  public var distance: Double
  /// The kept start's objective after each iteration (index 0: the random dummy). Non-finite
  /// entries mark points where the optimiser diverged.
  public var history: [Double]
  public var iterations: Int
  /// Evaluations of the objective over all starts.
  public var evaluations: Int
  public var wallSeconds: Double
  public var keptTrial: Int
  /// How many starts ran.
  public var starts: Int
  /// How often the optimiser diverged or stalled and was restarted from its best point, over
  /// all starts.
  public var recoveries: Int
  /// R-GAP's report on each layer it solved, from the input up (empty for other methods).
  public var layers: [RGAPLayerReport] = []
}
