import FedData
import FedSimCore
import Foundation
import Tensors

/// Runs one round after another: samples clients, sends them the model, collects their updates
/// until all came or the deadline passed, aggregates when the quorum is met, and records it all.
struct RoundRunner {
  let setup: FederationSetup
  let sockets: ServerSockets
  let identities: [Int: [UInt8]]
  let log: EventLog
  private var generator: SeededGenerator
  /// Rounds each client was selected in so far (for DP-SGD's ε).
  private var selections: [Int]

  init(setup: FederationSetup, sockets: ServerSockets, identities: [Int: [UInt8]], log: EventLog) {
    (self.setup, self.sockets, self.identities, self.log) = (setup, sockets, identities, log)
    generator = SeededGenerator(seed: setup.scenario.seed &+ 3)
    selections = [Int](repeating: 0, count: setup.scenario.federation.clients)
  }

  mutating func run(_ round: Int, model: inout AnyModel) throws(FederationError) -> RoundRecord {
    let s = setup.scenario
    let selected = sample()
    for c in selected { selections[c] += 1 }
    let weights = model.namedParameters.map { (name: $0.name, tensor: $0.tensor) }
    for c in selected {
      guard let id = identities[c] else { continue }
      do { try sockets.send(.model(ModelHeader(run: s.name, round: round, client: c, selected: selected)), to: id, tensors: weights) } catch {
        log.log("send_failed", ["client": c, "round": round, "reason": "\(error)"])
      }
    }
    log.log("round_started", ["round": round, "selected": selected])
    var collection = UpdateCollection(
      setup: setup, sockets: sockets, identities: identities, log: log, round: round, selected: selected, weights: weights)
    try collection.collect()
    var record = RoundRecord(
      round: round, selected: selected, accepted: collection.updates.keys.sorted(), dropped: collection.dropped,
      outcome: .failed, testAccuracy: nil, epsilon: epsilon())
    if let reason = collection.shortfall {
      record.dropped.append(RoundRecord.Drop(client: nil, reason: reason))
      log.log("round_failed", ["round": round, "updates": collection.updates.count, "reason": reason])
    } else if case let mean = Aggregation.weightedMean(collection.ordered),
      let next = Aggregation(scenario: s).apply(model, mean: mean)
    {
      model = next
      record.outcome = .aggregated
      if s.secureAggregation { collection.publishAggregate(mean) }
    } else {
      record.dropped.append(RoundRecord.Drop(client: nil, reason: "the aggregate is not finite: the model is kept"))
      log.log("round_failed", ["round": round, "reason": "non-finite aggregate"])
    }
    record.testAccuracy = testAccuracy(model)
    log.log("round_finished", [
      "round": round, "updates": collection.updates.count, "missing": selected.count - collection.updates.count,
      "outcome": record.outcome.rawValue, "test_accuracy": record.testAccuracy ?? -1,
    ])
    return record
  }

  /// The clients of this round, drawn without replacement.
  private mutating func sample() -> [Int] {
    var all = identities.keys.sorted()
    let want = Swift.max(1, Int((Double(all.count) * setup.scenario.federation.sample).rounded()))
    guard want < all.count else { return all }
    all.shuffle(using: &generator)
    return Array(all.prefix(want)).sorted()
  }

  private func testAccuracy(_ model: AnyModel) -> Double? {
    guard !setup.testIndices.isEmpty else { return nil }
    return LocalTraining(batchSize: 64, transform: setup.modelInput).accuracy(model, on: setup.dataset, indices: setup.testIndices)
  }

  /// DP-SGD's ε so far, the largest over clients (nil without DP-SGD).
  private func epsilon() -> Double? {
    guard let dp = setup.scenario.privacy.dpSGD else { return nil }
    var seen: [[Int]: Double] = [:]
    var worst = 0.0
    for c in selections.indices where selections[c] > 0 {
      let key = [setup.clientIndices[c].count, selections[c]]
      let e = seen[key] ?? RDPAccountant.clientEpsilon(setup.scenario, dp, images: key[0], rounds: key[1])
      seen[key] = e
      worst = Swift.max(worst, e)
    }
    return worst
  }
}
