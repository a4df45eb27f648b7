import Adversary
import FedSimCore
import Foundation
import Tensors

/// The `fed-adversary` role: subscribes to the server's tap (what clients sent, with the model
/// they were sent), attacks the brief's victims in the brief's rounds, and writes each
/// reconstruction to the run folder. Its brief names the model and the attack, nothing else: it
/// never opens the dataset or the truth.
public struct FederatedAdversary: Sendable {
  public let folder: RunFolder
  public let brief: AdversaryBrief
  public let log: EventLog
  /// The most images one attack reconstructs (a FedAvg update over more is skipped, logged).
  public static let largestBatch = 64

  public init(folder: RunFolder) throws(FederationError) {
    self.folder = folder
    do { brief = try folder.readJSON(AdversaryBrief.self, from: folder.brief) } catch { throw .folder(error) }
    log = EventLog(path: folder.events("adversary"), role: "adversary")
  }

  public func run(tap endpoint: String? = nil) throws(FederationError) {
    let target: String
    do { target = try folder.endpoint(endpoint, \.tap) } catch { throw .folder(error) }
    let socket: ZMQSocket
    do {
      socket = try ZMQSocket(try ZMQContext(), .sub, maximumMessageBytes: 1 << 30)
      try socket.keepEveryMessage()  // keep every update queued while an attack runs
    } catch { throw .socket(error) }
    if brief.security == .curve { try CurveKeyring.secure(socket, as: "adversary", in: folder) }
    do { try socket.connect(target) } catch { throw .socket(error) }
    log.log("subscribed", ["tap": target])
    let template = try TapModel(brief.model)
    var lastHeard = Date()
    while true {
      let frames: [[UInt8]]?
      do { frames = try socket.receive(timeout: 0.2) } catch { throw .socket(error) }
      guard let frames else {
        if Date().timeIntervalSince(lastHeard) > brief.patience {
          throw .silent(peer: "tap", endpoint: target, seconds: Int(brief.patience))
        }
        continue
      }
      lastHeard = Date()
      do {
        let m = try WireMessage(frames: frames)
        if case .done = m.body {
          log.log("done")
          return
        }
        guard case .tap(let h) = m.body, h.run == brief.run, brief.attack.rounds.contains(h.round),
          brief.attack.victims.contains(h.client) || h.client == -1
        else { continue }
        let tapped = try template.read(m, h)
        do { try attack(tapped, h) } catch {
          log.log("attack_failed", ["round": h.round, "client": h.client, "reason": "\(error)"])
        }
      } catch {
        log.log("dropped", ["reason": error.description])
      }
    }
  }

  /// The most local steps an attack replays (each is a recorded gradient of the dummy batch).
  public static let mostReplayedSteps = 64

  private func attack(_ tapped: TapModel.Tapped, _ h: TapHeader) throws {
    let a = brief.attack
    let replay = a.fedavgUpdate == .replay && h.algorithm == .fedavg
    if replay && h.steps > Self.mostReplayedSteps {
      throw FederationError.failed("the update took \(h.steps) local steps: replaying more than \(Self.mostReplayedSteps) is refused")
    }
    let spec = brief.model
    let inversion = GradientInversion(
      model: tapped.model, sharedGradient: tapped.gradient,
      inputShape: [tapped.batch, spec.channels, spec.imageSize, spec.imageSize], classes: spec.classes)
    log.log("attack_started", ["round": h.round, "client": h.client, "method": a.method.rawValue])
    let every = Swift.max(1, a.iterations / 30)
    var snapshots: [Int: [(iteration: Int, image: Tensor)]] = [:]  // by start
    let live = folder.live(round: h.round, client: h.client)
    let r = try inversion.attack(
      AttackConfiguration(
        method: AttackMethod(a.method), iterations: a.iterations, restarts: a.restarts, seed: brief.seed,
        pixelRange: spec.inputRange,
        localSteps: replay ? LocalSteps(steps: h.steps, learningRate: Float(h.learningRate)) : nil,
        initialization: a.start.flatMap { DummyInitialization(rawValue: $0.rawValue) })
    ) { p in
      guard p.iteration % every == 0 || p.iteration == a.iterations else { return }
      // Everything written is in pixels: the attack works in the model's input space.
      let seen = spec.pixels(p.reconstruction)
      snapshots[p.trial, default: []].append((p.iteration, seen))
      // The attack under way, for live views (fedsim demo, --serve); best effort.
      try? SafetensorsFile(
        tensors: ["reconstruction": seen],
        metadata: ["iteration": "\(p.iteration)", "of": "\(a.iterations)", "trial": "\(p.trial)", "distance": "\(p.distance)"]
      ).write(to: live)
    }
    for layer in r.layers {
      log.log(layer.determined ? "rgap_layer" : "rgap_rank_deficient", ["round": h.round, "client": h.client, "report": layer.summary])
    }
    let images = spec.pixels(r.reconstruction)
    let kept = snapshots[r.keptTrial] ?? [(r.iterations, images)]
    try Reconstruction(
      round: h.round, client: h.client, clients: h.clients, method: a.method, images: images, labels: r.labels,
      history: r.history, snapshots: concat(kept.map { $0.image.reshaped(to: [1] + $0.image.shape) }, alongAxis: 0),
      snapshotIterations: kept.map(\.iteration), iterations: r.iterations, evaluations: r.evaluations,
      wallSeconds: r.wallSeconds, distance: r.distance
    ).write(to: folder.reconstruction(round: h.round, client: h.client))
    log.log(
      "attack_finished",
      ["round": h.round, "client": h.client, "distance": r.distance, "evaluations": r.evaluations, "wall_s": r.wallSeconds])
  }
}

extension AttackMethod {
  /// The attack a scenario names.
  init(_ kind: AttackKind) {
    switch kind {
    case .dlg: self = .dlg
    case .idlg: self = .idlg
    case .wdlg: self = .wdlg
    case .ig: self = .ig
    case .rgap: self = .rgap
    }
  }
}
