import Adversary
import Foundation
import Tensors

/// The `fed-client` process: a DEALER that says hello, then for each model the server sends
/// computes its update on its own images (FedSGD: the gradient of one batch; FedAvg: the weight
/// change after local epochs), keeps the private batch in the run folder for scoring, applies
/// its defenses in order, and sends the update. It stops when the server says done, or when
/// the server stays silent past the round deadline plus a grace period.
public struct FederatedClient: Sendable {
  public let folder: RunFolder
  public let setup: FederationSetup
  public let id: Int
  public let log: EventLog

  public init(folder: RunFolder, id: Int) throws {
    self.folder = folder
    self.id = id
    setup = try FederationSetup(folder.readScenario())
    guard id >= 0 && id < setup.clientIndices.count else {
      throw FederationError.failed("client \(id) does not exist (the scenario has \(setup.clientIndices.count))")
    }
    log = EventLog(path: folder.events("client-\(id)"), role: "client-\(id)")
  }

  public func run(server endpoint: String? = nil) throws {
    let s = setup.scenario
    let f = s.federation!
    let context = ZMQContext()
    let socket = try ZMQSocket(context, .dealer, maximumMessageBytes: 512 << 20)
    let target = try endpoint ?? folder.readEndpoints().clients
    try socket.connect(target)
    try socket.send(WireMessage(kind: .hello, run: s.name!, client: id).frames())
    log.log("connected", ["server": target, "images": setup.clientIndices[id].count])
    var template = try setup.initialModel()
    let silence = f.deadline! * 2 + 30
    var lastHeard = Date()
    while true {
      guard let frames = try socket.receive(timeout: 0.2) else {
        if Date().timeIntervalSince(lastHeard) > silence {
          log.log("failed", ["reason": "the server has been silent for \(Int(silence)) s"])
          throw FederationError.failed("client \(id): the server at \(target) has been silent for \(Int(silence)) s")
        }
        continue
      }
      lastHeard = Date()
      let m: WireMessage
      do { m = try WireMessage(frames: frames) } catch {
        log.log("dropped", ["reason": "\(error)"])
        continue
      }
      if m.kind == .done {
        log.log("done")
        return
      }
      guard m.kind == .model else { continue }
      do {
        try m.validate(against: template.namedParameters.map { (name: $0.name, shape: $0.tensor.shape) })
      } catch {
        log.log("dropped", ["reason": "the model does not fit: \(error)"])
        continue
      }
      template = template.withParameters(m.tensors.map(\.tensor))
      let (update, examples) = try computeUpdate(template, round: m.round)
      var generator = SeededGenerator(seed: s.seed! &+ UInt64(m.round * 1000 + id) &+ 99)
      var defended = update
      for d in s.defenses! { defended = d.apply(defended, generator: &generator) }
      if s.secureAggregation! {
        let selected = (m.meta["selected"] ?? "").split(separator: ",").compactMap { Int($0) }
        defended = SecureAggregation.mask(
          defended, client: id, round: m.round, selected: selected, examples: examples, seed: s.seed!)
      }
      let names = template.namedParameters.map(\.name)
      let reply = WireMessage(
        kind: .update, run: s.name!, round: m.round, client: id, sequence: m.sequence,
        tensors: zip(names, defended).map { (name: $0, tensor: $1) },
        meta: ["examples": "\(examples)", "batch": "\(Swift.min(f.localBatch!, setup.clientIndices[id].count))"])
      try socket.send(reply.frames())
      log.log("update_sent", ["round": m.round, "examples": examples])
    }
  }

  /// The update and the number of examples behind it; the FedSGD batch is kept as ground truth.
  func computeUpdate(_ model: AnyModel, round: Int) throws -> ([Tensor], Int) {
    let s = setup.scenario
    let f = s.federation!
    let mine = setup.clientIndices[id]
    var generator = SeededGenerator(seed: s.seed! &+ UInt64(round * 7919 + id))
    if f.algorithm == "fedsgd" {
      var order = mine
      order.shuffle(using: &generator)
      let batch = Array(order.prefix(f.localBatch!))
      let input = setup.dataset.images(batch)
      let labels = setup.dataset.labels(batch)
      var truth = RecordedUpdate(spec: setup.spec, model: model, input: input, labels: labels)
      if let dp = s.dpSgd {
        truth.gradient = dp.gradient(model, images: input, labels: labels, classes: setup.spec.classes, generator: &generator)
      }
      try truth.write(to: folder.truth(round: round, client: id))
      return (truth.gradient, batch.count)
    }
    if let dp = s.dpSgd {
      var local = model
      for _ in 0..<f.epochs! {
        var order = mine
        order.shuffle(using: &generator)
        for start in stride(from: 0, to: order.count, by: f.localBatch!) {
          let batch = Array(order[start..<Swift.min(start + f.localBatch!, order.count)])
          let g = dp.gradient(local, images: setup.dataset.images(batch), labels: setup.dataset.labels(batch), classes: setup.spec.classes, generator: &generator)
          local = local.withParameters(zip(local.parameters, g).map { $0 - $1 * Float(f.learningRate!) })
        }
      }
      return (zip(local.parameters, model.parameters).map { $0 - $1 }, mine.count)
    }
    var local = model
    var optimizer = SGD(learningRate: Float(f.learningRate!))
    let training = LocalTraining(batchSize: f.localBatch!)
    for _ in 0..<f.epochs! {
      training.epoch(&local, on: setup.dataset, indices: mine, optimizer: &optimizer, generator: &generator)
    }
    return (zip(local.parameters, model.parameters).map { $0 - $1 }, mine.count)
  }
}

/// Simulated secure aggregation (Bonawitz et al. 2017, without dropout recovery).
public enum SecureAggregation {
  /// `update` masked for the server: for every other selected client j, a mask drawn from a seed
  /// the two share is added by the lower index and subtracted by the higher, divided by the
  /// client's example count so that the masks cancel in the examples-weighted sum the server
  /// computes. One masked update alone is noise of standard deviation about √(k−1)/examples.
  public static func mask(
    _ update: [Tensor], client: Int, round: Int, selected: [Int], examples: Int, seed: UInt64
  ) -> [Tensor] {
    var out = update
    for j in selected where j != client {
      let (a, b) = (Swift.min(client, j), Swift.max(client, j))
      var shared = SeededGenerator(seed: seed &+ UInt64(round) << 40 &+ UInt64(a) << 20 &+ UInt64(b))
      let sign: Float = client == a ? 1 : -1
      out = out.indices.map { i in out[i] + Tensor.normal(out[i].shape, using: &shared) * (sign / Float(examples)) }
    }
    return out
  }
}
