import Tensors

/// Everything the adversary is told (`adversary.json`): the model it will receive weights for,
/// the attack to run and how long to wait. It names no dataset and no truth: the adversary learns
/// the clients' data only through what the tap shows.
public struct AdversaryBrief: Codable, Sendable, Equatable {
  public var run: String
  public var seed: UInt64
  public var model: ModelSpec
  public var attack: AttackPlan
  /// How long the tap may stay silent before the adversary gives up, in seconds.
  public var patience: Double
  /// How the adversary proves itself to the tap.
  public var security: Security

  public init(run: String, seed: UInt64, model: ModelSpec, attack: AttackPlan, patience: Double, security: Security) {
    (self.run, self.seed, self.model, self.attack, self.patience) = (run, seed, model, attack, patience)
    self.security = security
  }

  /// The brief for `scenario`'s adversary, or nil when it attacks nothing.
  public init?(_ scenario: Scenario) {
    guard let attack = scenario.attack else { return nil }
    let f = scenario.federation
    self.init(
      run: scenario.name, seed: scenario.seed, model: scenario.model, attack: attack,
      patience: f.deadline * Double(f.rounds + 2) + 60, security: f.security)
  }
}
