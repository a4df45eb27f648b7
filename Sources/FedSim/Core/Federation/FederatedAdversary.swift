import Adversary
import Foundation
import Tensors

/// The `fed-adversary` process: subscribes to the server's tap (what clients sent, with the
/// model they were sent), attacks the scenario's victims in the scenario's rounds, and writes
/// each reconstruction to the run folder. It never reads the ground truth.
public struct FederatedAdversary: Sendable {
  public let folder: RunFolder
  public let setup: FederationSetup
  public let log: EventLog

  public init(folder: RunFolder) throws {
    self.folder = folder
    setup = try FederationSetup(folder.readScenario())
    log = EventLog(path: folder.events("adversary"), role: "adversary")
  }

  public func run(tap endpoint: String? = nil) throws {
    let s = setup.scenario
    guard let a = s.attack else { return }
    let context = ZMQContext()
    let socket = try ZMQSocket(context, .sub, maximumMessageBytes: 1 << 30)
    let target = try endpoint ?? folder.readEndpoints().tap
    try socket.connect(target)
    log.log("subscribed", ["tap": target])
    let silence = s.federation!.deadline! * Double(s.federation!.rounds! + 2) + 60
    var lastHeard = Date()
    while true {
      guard let frames = try socket.receive(timeout: 0.2) else {
        if Date().timeIntervalSince(lastHeard) > silence {
          throw FederationError.failed("adversary: the tap at \(target) has been silent for \(Int(silence)) s")
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
      // Under secure aggregation the tap shows only the aggregate (client −1), attacked whole.
      guard m.kind == .tap, a.rounds!.contains(m.round), a.victims!.contains(m.client) || m.client == -1 else { continue }
      do { try attack(m, a) } catch let error as WireError {
        log.log("dropped", ["round": m.round, "client": m.client, "reason": "\(error)"])
      }
    }
  }

  func attack(_ m: WireMessage, _ a: Scenario.AttackSection) throws {
    let template = try setup.initialModel()
    let shapes = template.namedParameters.map { (name: $0.name, shape: $0.tensor.shape) }
    try m.validate(against: shapes, prefix: "param.")
    try m.validate(against: shapes, prefix: "grad.")
    let named = Dictionary(m.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
    let model = template.withParameters(shapes.map { named["param." + $0.name]! })  // validated above
    var gradient = shapes.map { named["grad." + $0.name]! }
    if m.meta["algorithm"] == "fedavg" {
      // A weight change after local training, read as one step of plain SGD: g ≈ −Δ/η.
      let lr = Float(m.meta["learning_rate"] ?? "") ?? 1
      gradient = gradient.map { $0 * (-1 / lr) }
    }
    let batch = Int(m.meta["batch"] ?? "") ?? 1
    let spec = setup.spec
    let inversion = GradientInversion(
      model: model, sharedGradient: gradient, inputShape: [batch, spec.channels, spec.imageSize, spec.imageSize],
      classes: spec.classes)
    log.log("attack_started", ["round": m.round, "client": m.client, "method": a.method!.rawValue])
    let every = Swift.max(1, a.iterations! / 30)
    var snapshots: [Int: [Tensor]] = [:]
    let r = inversion.run(
      AttackConfiguration(method: a.method!, iterations: a.iterations!, restarts: a.restarts!, seed: setup.scenario.seed!)
    ) { p in
      guard p.iteration % every == 0 || p.iteration == a.iterations! else { return }
      snapshots[p.trial, default: []].append(p.reconstruction)
      // The attack under way, for live views (fedsim demo, --serve).
      try? SafetensorsFile(
        tensors: ["reconstruction": p.reconstruction],
        metadata: ["iteration": "\(p.iteration)", "of": "\(a.iterations!)", "trial": "\(p.trial)", "distance": "\(p.distance)"]
      ).write(to: folder.live(round: m.round, client: m.client))
    }
    try folder.write(Data(Pictures.timeline(snapshots[r.keptTrial] ?? [r.reconstruction], scale: Swift.max(1, 96 / spec.imageSize))), to: folder.timeline(round: m.round, client: m.client))
    try SafetensorsFile(
      tensors: [
        "reconstruction": r.reconstruction,
        "labels": Tensor(shape: [r.labels.count], scalars: r.labels.map(Float.init)),
        "history": Tensor(shape: [r.history.count], scalars: r.history.map { Float($0) }),
      ],
      metadata: [
        "method": a.method!.rawValue, "iterations": "\(r.iterations)", "evaluations": "\(r.evaluations)",
        "wall_s": "\(r.wallSeconds)", "distance": "\(r.distance)", "round": "\(m.round)", "client": "\(m.client)",
        "clients": m.meta["clients"] ?? "\(m.client)",
      ]
    ).write(to: folder.reconstruction(round: m.round, client: m.client))
    log.log("attack_finished", ["round": m.round, "client": m.client, "distance": r.distance, "wall_s": r.wallSeconds])
  }
}
