import Foundation
import Tensors

/// The `fed-server` process: binds a ROUTER for clients and an XPUB tap for the adversary, runs
/// the scenario's rounds (FedSGD or FedAvg), and closes each round at its deadline with the
/// updates it has, if they reach the quorum. A malformed or unexpected message is dropped with a
/// logged reason; it never stops the server.
public struct FederatedServer: Sendable {
  public let folder: RunFolder
  public let setup: FederationSetup
  public let log: EventLog
  /// The largest message accepted from a peer (ZMQ_MAXMSGSIZE).
  public var maximumMessageBytes: Int64 = 512 << 20

  public init(folder: RunFolder) throws {
    self.folder = folder
    setup = try FederationSetup(folder.readScenario())
    log = EventLog(path: folder.events("server"), role: "server")
  }

  public func run() throws {
    let s = setup.scenario
    let f = s.federation!
    let runID = s.name!
    let context = ZMQContext()
    let router = try ZMQSocket(context, .router, maximumMessageBytes: maximumMessageBytes)
    let tap = try ZMQSocket(context, .xpub)
    let endpoints = Endpoints(
      clients: try router.bind("tcp://\(f.host!):*"), tap: try tap.bind("tcp://\(f.host!):*"))
    try folder.writeJSON(endpoints, to: folder.endpoints)
    log.log("listening", ["clients": endpoints.clients, "tap": endpoints.tap])

    var model = try setup.initialModel()
    let shapes = model.namedParameters.map { (name: $0.name, shape: $0.tensor.shape) }
    var identities: [Int: [UInt8]] = [:]
    var sequence = 0

    // Registration: every client says hello; the adversary subscribes to the tap.
    let registrationEnd = Date().addingTimeInterval(f.deadline!)
    var tapSubscribed = s.attack == nil
    while (identities.count < f.clients! || !tapSubscribed) && Date() < registrationEnd {
      if let frames = try router.receive(timeout: 0.05) {
        guard frames.count >= 2 else { continue }
        do {
          let m = try WireMessage(frames: Array(frames.dropFirst()))
          guard m.kind == .hello, m.client >= 0, m.client < f.clients! else {
            log.log("dropped", ["reason": "expected hello from a client 0..<\(f.clients!), got \(m.kind.rawValue) from \(m.client)"])
            continue
          }
          identities[m.client] = frames[0]
          log.log("client_joined", ["client": m.client])
        } catch {
          log.log("dropped", ["reason": "\(error)"])
        }
      }
      if let sub = try tap.receive(timeout: 0), sub.first?.first == 1 {
        tapSubscribed = true
        log.log("adversary_subscribed")
      }
    }
    guard identities.count >= f.quorum! else {
      log.log("failed", ["reason": "only \(identities.count) of \(f.clients!) clients joined"])
      throw FederationError.failed("only \(identities.count) of \(f.clients!) clients joined before the deadline")
    }

    var generator = SeededGenerator(seed: s.seed! &+ 3)
    for round in 1...f.rounds! {
      var selected = identities.keys.sorted()
      let want = Swift.max(1, Int((Double(selected.count) * f.sample!).rounded()))
      if want < selected.count {
        selected.shuffle(using: &generator)
        selected = Array(selected.prefix(want)).sorted()
      }
      let weights = model.namedParameters
      let secure = s.secureAggregation!
      for c in selected {
        sequence += 1
        let m = WireMessage(
          kind: .model, run: runID, round: round, client: c, sequence: sequence,
          tensors: weights.map { (name: $0.name, tensor: $0.tensor) },
          meta: ["selected": selected.map(String.init).joined(separator: ",")])
        do { try router.send([identities[c]!] + m.frames()) } catch {
          log.log("send_failed", ["client": c, "round": round, "reason": "\(error)"])
        }
      }
      log.log("round_started", ["round": round, "selected": selected])

      var updates: [Int: (tensors: [Tensor], examples: Int, batch: Int)] = [:]
      let deadline = Date().addingTimeInterval(f.deadline!)
      var lastBeat = Date()
      while updates.count < selected.count && Date() < deadline {
        if Date().timeIntervalSince(lastBeat) > 1 {
          // Heartbeats tell clients still waiting (or computing) that the server is alive.
          lastBeat = Date()
          sequence += 1
          let beat = WireMessage(kind: .heartbeat, run: runID, round: round, sequence: sequence).frames()
          for (c, id) in identities where updates[c] == nil { try? router.send([id] + beat) }
        }
        guard let frames = try router.receive(timeout: 0.05), frames.count >= 2 else { continue }
        do {
          let m = try WireMessage(frames: Array(frames.dropFirst()))
          guard m.kind == .update else {
            if m.kind != .heartbeat { log.log("dropped", ["reason": "unexpected \(m.kind.rawValue) during round \(round)"]) }
            continue
          }
          guard m.run == runID, m.round == round else { throw WireError.malformed("update for run '\(m.run)' round \(m.round), expected '\(runID)' round \(round)") }
          guard selected.contains(m.client), identities[m.client] == frames[0] else {
            throw WireError.malformed("update from client \(m.client), which was not asked this round")
          }
          guard updates[m.client] == nil else { throw WireError.malformed("a second update from client \(m.client)") }
          try m.validate(against: shapes)
          let examples = Int(m.meta["examples"] ?? "") ?? 1
          updates[m.client] = (m.tensors.map(\.tensor), examples, Int(m.meta["batch"] ?? "") ?? 1)
          log.log("update_received", ["round": round, "client": m.client, "examples": examples])
          // Under secure aggregation a single (masked) update shows nothing: only the sum goes
          // to the tap, below.
          if secure { continue }
          // The honest-but-curious view: exactly what the client sent, with the model it had.
          sequence += 1
          let view = WireMessage(
            kind: .tap, run: runID, round: round, client: m.client, sequence: sequence,
            tensors: weights.map { (name: "param." + $0.name, tensor: $0.tensor) }
              + m.tensors.map { (name: "grad." + $0.name, tensor: $0.tensor) },
            meta: m.meta.merging(["algorithm": f.algorithm!, "learning_rate": "\(f.learningRate!)"]) { a, _ in a })
          try tap.send(view.frames())
        } catch {
          log.log("dropped", ["round": round, "reason": "\(error)"])
        }
      }
      guard updates.count >= f.quorum!, !secure || updates.count == selected.count else {
        log.log("round_failed", [
          "round": round, "updates": updates.count, "quorum": f.quorum!,
          "reason": secure ? "secure aggregation needs every selected client's masked update" : "below the quorum",
        ])
        continue
      }
      let before = model
      model = aggregate(model, updates: Array(updates.values))
      if secure {
        // What the server learns is the aggregate: publish it as the update of client −1.
        let mean = aggregate(before.withParameters(before.parameters.map { Tensor.zeros($0.shape) }), updates: Array(updates.values), step: 1)
        sequence += 1
        let view = WireMessage(
          kind: .tap, run: runID, round: round, client: -1, sequence: sequence,
          tensors: weights.map { (name: "param." + $0.name, tensor: $0.tensor) }
            + zip(weights, mean.parameters).map { (name: "grad." + $0.0.name, tensor: $0.1) },
          meta: [
            "algorithm": f.algorithm!, "learning_rate": "\(f.learningRate!)", "aggregate": "true",
            "batch": "\(updates.values.reduce(0) { $0 + $1.batch })", "clients": updates.keys.sorted().map(String.init).joined(separator: ","),
          ])
        try tap.send(view.frames())
      }
      let accuracy = LocalTraining(batchSize: 64).accuracy(model, on: setup.dataset, indices: setup.testIndices)
      log.log("round_finished", ["round": round, "updates": updates.count, "missing": selected.count - updates.count, "test_accuracy": accuracy])
      try folder.writeJSON(["round": Double(round), "test_accuracy": accuracy], to: folder.path + "/accuracy.json")
    }
    sequence += 1
    let done = WireMessage(kind: .done, run: runID, sequence: sequence)
    for (_, id) in identities { try? router.send([id] + done.frames()) }
    try tap.send(done.frames())
    log.log("done")
  }

  /// FedSGD: one SGD step along the examples-weighted mean gradient. FedAvg: the examples-
  /// weighted mean of the clients' weight deltas.
  func aggregate(_ model: AnyModel, updates: [(tensors: [Tensor], examples: Int, batch: Int)], step: Float? = nil) -> AnyModel {
    let total = Float(updates.reduce(0) { $0 + $1.examples })
    let params = model.parameters
    var mean = params.map { Tensor.zeros($0.shape) }
    for u in updates {
      for i in mean.indices { mean[i] = mean[i] + u.tensors[i] * (Float(u.examples) / total) }
    }
    let step = step ?? (setup.scenario.federation!.algorithm == "fedsgd" ? -Float(setup.scenario.federation!.learningRate!) : 1)
    return model.withParameters(zip(params, mean).map { $0 + $1 * step })
  }
}

public enum FederationError: Error, CustomStringConvertible {
  case failed(String)
  public var description: String {
    switch self {
    case .failed(let s): s
    }
  }
}
