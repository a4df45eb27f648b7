/// What the server did in one round, as it writes it to `rounds.json` after every round: the
/// launcher reads these, never the human-readable events log.
public struct RoundRecord: Codable, Sendable, Equatable {
  public enum Outcome: String, Codable, Sendable {
    /// Aggregated into the global model.
    case aggregated
    /// Too few updates (or, under secure aggregation, not every selected one): the model is kept.
    case failed
  }

  /// An update or message the round dropped, and why.
  public struct Drop: Codable, Sendable, Equatable {
    public var client: Int?
    public var reason: String
    public init(client: Int?, reason: String) { (self.client, self.reason) = (client, reason) }
  }

  public var round: Int
  public var selected: [Int]
  /// Clients whose update was accepted, in order.
  public var accepted: [Int]
  public var dropped: [Drop]
  public var outcome: Outcome
  /// Test accuracy of the global model after the round (nil when the server keeps no test set).
  public var testAccuracy: Double?
  /// DP-SGD's ε spent so far, the largest over clients (nil without DP-SGD).
  public var epsilon: Double?

  public init(
    round: Int, selected: [Int], accepted: [Int], dropped: [Drop], outcome: Outcome, testAccuracy: Double?,
    epsilon: Double?
  ) {
    (self.round, self.selected, self.accepted, self.dropped, self.outcome) = (round, selected, accepted, dropped, outcome)
    (self.testAccuracy, self.epsilon) = (testAccuracy, epsilon)
  }

  enum CodingKeys: String, CodingKey {
    case round, selected, accepted, dropped, outcome, epsilon
    case testAccuracy = "test_accuracy"
  }
}
