import FedSimCore
import Foundation
import Tensors

/// One client's accepted update.
struct ClientUpdate {
  var header: UpdateHeader
  var tensors: [Tensor]
}

/// The updates of one round, as they arrive: each is checked (this run, this round, a client
/// asked this round, from its own connection, once, shapes of the model) and, unless secure
/// aggregation hides it, shown on the tap at once. Heartbeats go out every second meanwhile.
struct UpdateCollection {
  let setup: FederationSetup
  let sockets: ServerSockets
  let identities: [Int: [UInt8]]
  let log: EventLog
  let round: Int
  let selected: [Int]
  let weights: [(name: String, tensor: Tensor)]
  private(set) var updates: [Int: ClientUpdate] = [:]
  private(set) var dropped: [RoundRecord.Drop] = []

  init(
    setup: FederationSetup, sockets: ServerSockets, identities: [Int: [UInt8]], log: EventLog, round: Int,
    selected: [Int], weights: [(name: String, tensor: Tensor)]
  ) {
    (self.setup, self.sockets, self.identities, self.log) = (setup, sockets, identities, log)
    (self.round, self.selected, self.weights) = (round, selected, weights)
  }

  var ordered: [ClientUpdate] { updates.keys.sorted().compactMap { updates[$0] } }

  /// Why the round cannot be aggregated, or nil when it can.
  var shortfall: String? {
    let s = setup.scenario
    if s.secureAggregation && updates.count < selected.count {
      return "secure aggregation needs every selected client's masked update (\(updates.count) of \(selected.count) came)"
    }
    if updates.count < s.federation.quorum { return "\(updates.count) updates, below the quorum of \(s.federation.quorum)" }
    return nil
  }

  mutating func collect() throws(FederationError) {
    let deadline = Date().addingTimeInterval(setup.scenario.federation.deadline)
    var lastBeat = Date()
    while updates.count < selected.count && Date() < deadline {
      if Date().timeIntervalSince(lastBeat) > 1 {
        lastBeat = Date()
        let beat = WireBody.heartbeat(Heartbeat(run: setup.scenario.name, round: round))
        for (c, id) in identities where updates[c] == nil { try? sockets.send(beat, to: id) }
      }
      let incoming: (identity: [UInt8], frames: [[UInt8]], user: String?)?
      do { incoming = try sockets.receiveFromClient(timeout: 0.05) } catch { throw .socket(error) }
      guard let incoming else { continue }
      do { try accept(incoming) } catch {
        dropped.append(RoundRecord.Drop(client: nil, reason: error.description))
        log.log("dropped", ["round": round, "reason": error.description])
      }
    }
    for c in selected where updates[c] == nil {
      dropped.append(RoundRecord.Drop(client: c, reason: "no update before the deadline"))
    }
  }

  private mutating func accept(_ incoming: (identity: [UInt8], frames: [[UInt8]], user: String?)) throws(WireError) {
    let m = try WireMessage(frames: incoming.frames)
    guard case .update(let h) = m.body else {
      if m.kind == .heartbeat { return }
      throw .malformed("unexpected \(m.kind.rawValue) during round \(round)")
    }
    let s = setup.scenario
    guard h.run == s.name, h.round == round else {
      throw .malformed("update for run '\(h.run)' round \(h.round), expected '\(s.name)' round \(round)")
    }
    guard selected.contains(h.client), identities[h.client] == incoming.identity else {
      throw .malformed("update from client \(h.client), which was not asked this round on this connection")
    }
    try sockets.check(user: incoming.user, speaksFor: h.client)
    guard updates[h.client] == nil else { throw .malformed("a second update from client \(h.client)") }
    // A client declares at most the images it holds: a larger weight would let it outvote others.
    let holds = setup.clientIndices[h.client].count
    guard h.examples <= Swift.max(1, holds) else {
      throw .malformed("client \(h.client) declares \(h.examples) examples but holds \(holds)")
    }
    try m.validate(against: weights.map { (name: $0.name, shape: $0.tensor.shape) })
    updates[h.client] = ClientUpdate(header: h, tensors: m.tensors.map(\.tensor))
    log.log("update_received", ["round": round, "client": h.client, "examples": h.examples])
    // Under secure aggregation a single (masked) update shows nothing: only the sum is shown.
    if !s.secureAggregation { publish(client: h.client, clients: [h.client], header: h, update: m.tensors.map(\.tensor)) }
  }

  /// The honest-but-curious view: exactly what the client sent, with the model it was sent.
  /// Only what the adversary attacks goes out (its rounds; its victims, or the aggregate): the
  /// tap keeps every message until the adversary takes it, so nothing it needs is ever dropped.
  private func publish(client: Int, clients: [Int], header h: UpdateHeader, update: [Tensor]) {
    // A victim's update, or the aggregate (client −1, published only under secure aggregation).
    guard setup.scenario.keepsTruth(client: client, round: round) else { return }
    let f = setup.scenario.federation
    let tap = TapHeader(
      run: setup.scenario.name, round: round, client: client, clients: clients, algorithm: f.algorithm,
      learningRate: f.learningRate, examples: h.examples, batch: h.batch, steps: h.steps)
    let tensors = weights.map { (name: "param." + $0.name, tensor: $0.tensor) }
      + zip(weights, update).map { (name: "grad." + $0.0.name, tensor: $0.1) }
    do { try sockets.publish(.tap(tap), tensors: tensors) } catch {
      log.log("tap_failed", ["round": round, "reason": "\(error)"])
    }
  }

  /// Under secure aggregation: what the server learns is the aggregate (`mean`, the weighted
  /// mean of `ordered`), shown as client −1.
  func publishAggregate(_ mean: [Tensor]) {
    let all = ordered
    guard let first = all.first else { return }
    let header = UpdateHeader(
      run: first.header.run, round: round, client: 0, examples: all.reduce(0) { $0 + $1.header.examples },
      batch: Swift.min(WireLimits.batch, all.reduce(0) { $0 + $1.header.batch }), steps: first.header.steps)
    publish(client: -1, clients: updates.keys.sorted(), header: header, update: mean)
  }
}
