import FedData
import FedSimCore
import Foundation
import Tensors

/// The `fed-client` role: a DEALER that says hello, then for each model the server sends
/// computes its update on its own images, keeps the private batch in the run folder when the
/// round is attacked (for scoring), applies its defenses in order, and sends the update. It
/// stops when the server says done, or when the server stays silent past its patience.
public struct FederatedClient: Sendable {
  public let folder: RunFolder
  public let setup: FederationSetup
  public let id: Int
  public let log: EventLog

  public init(folder: RunFolder, id: Int) throws(FederationError) {
    let scenario: Scenario
    do { scenario = try folder.readScenario() } catch { throw .folder(error) }
    guard id >= 0 && id < scenario.federation.clients else {
      throw .failed("client \(id) does not exist (the scenario has \(scenario.federation.clients))")
    }
    setup = try FederationSetup(scenario)
    guard !setup.clientIndices[id].isEmpty else {
      throw .failed("client \(id) holds no images: \(setup.dataset.count) images for \(scenario.federation.clients) clients (\(setup.testIndices.count) kept for testing)")
    }
    let smallest = ModelZoo.smallestBatch(scenario.model)
    guard setup.clientIndices[id].count >= smallest else {
      throw .failed(
        "client \(id) holds \(setup.clientIndices[id].count) image, but a batch of \(scenario.model.name) at "
          + "\(scenario.model.imageSize)×\(scenario.model.imageSize) needs \(smallest): its last batch norm would normalise "
          + "one value a channel (give the clients more images, or use larger images)")
    }
    (self.folder, self.id) = (folder, id)
    log = EventLog(path: folder.events("client-\(id)"), role: "client-\(id)")
  }

  public func run(server endpoint: String? = nil) throws(FederationError) {
    let s = setup.scenario
    let target: String
    do { target = try folder.endpoint(endpoint ?? s.federation.fixedEndpoints?.clients, \.clients) } catch { throw .folder(error) }
    let socket: ZMQSocket
    do { socket = try ZMQSocket(try ZMQContext(), .dealer, maximumMessageBytes: 512 << 20) } catch { throw .socket(error) }
    if s.federation.security == .curve { try CurveKeyring.secure(socket, as: "client-\(id)", in: folder) }
    do {
      try socket.connect(target)
      try socket.send(WireMessage(.hello(Hello(run: s.name, client: id))).frames())
    } catch { throw .socket(error) }
    log.log("connected", ["server": target, "images": setup.clientIndices[id].count])
    var template = try setup.initialModel()
    let patience = s.federation.deadline * 2 + 30
    var lastHeard = Date()
    while true {
      let frames: [[UInt8]]?
      do { frames = try socket.receive(timeout: 0.2) } catch { throw .socket(error) }
      guard let frames else {
        if Date().timeIntervalSince(lastHeard) > patience {
          log.log("failed", ["reason": "the server has been silent for \(Int(patience)) s"])
          throw .silent(peer: "server", endpoint: target, seconds: Int(patience))
        }
        continue
      }
      lastHeard = Date()
      let m: WireMessage
      do { m = try WireMessage(frames: frames) } catch {
        log.log("dropped", ["reason": error.description])
        continue
      }
      switch m.body {
      case .done:
        log.log("done")
        return
      case .model(let h) where h.run == s.name && h.client == id:
        guard let reply = answer(m, h, template: &template) else { continue }
        do { try socket.send(reply.frames()) } catch { throw .socket(error) }
        log.log("update_sent", ["round": h.round])
      default:
        continue
      }
    }
  }

  /// The update for a model message, or nil (logged) when the model does not fit.
  private func answer(_ m: WireMessage, _ h: ModelHeader, template: inout AnyModel) -> WireMessage? {
    do {
      try m.validate(against: template.namedParameters.map { (name: $0.name, shape: $0.tensor.shape) })
    } catch {
      log.log("dropped", ["reason": "the model does not fit: \(error)"])
      return nil
    }
    template = template.withParameters(m.tensors.map(\.tensor))
    let s = setup.scenario
    let local = LocalUpdate(setup: setup, client: id)
    let result = local.compute(template, round: h.round)
    if s.keepsTruth(client: id, round: h.round) {
      do { try result.privateBatch.write(to: folder.truth(round: h.round, client: id)) } catch {
        log.log("truth_failed", ["round": h.round, "reason": error.description])
      }
    }
    var generator = SeededGenerator(seed: s.seed &+ UInt64(h.round * 1000 + id) &+ 99)
    var update = result.update
    for d in s.defenses { update = d.apply(update, generator: &generator) }
    if s.secureAggregation {
      update = SecureAggregation.mask(
        update, client: id, round: h.round, selected: h.selected, examples: result.examples, seed: s.seed)
    }
    let names = template.namedParameters.map(\.name)
    let header = UpdateHeader(
      run: s.name, round: h.round, client: id, examples: result.examples, batch: result.batch, steps: result.steps)
    return WireMessage(.update(header), sequence: m.sequence, tensors: zip(names, update).map { (name: $0, tensor: $1) })
  }
}
