import FedData
import FedSimCore
import Foundation
import Tensors

/// A whole run as designed: its points (the sweep's grid, or the scenario alone), each resolved
/// and validated, and how often each repeats.
public struct RunDesign: Codable, Sendable, Equatable {
  public struct Point: Codable, Sendable, Equatable {
    /// `key=value` of each swept setting (`base` without a sweep).
    public var label: String
    public var scenario: Scenario
  }

  public var name: String
  public var repeats: Int
  public var points: [Point]
  /// Where the points run unless the command line says otherwise (absent: locally).
  public var executor: ExecutorKind?
  public var slurm: SlurmOptions?

  /// Task `i` of the run: point `i / repeats`, repeat `i % repeats`.
  public func task(_ i: Int) -> (point: Int, repeat: Int) { (i / repeats, i % repeats) }

  /// Point `k`'s label, with its repeat when the run repeats points.
  public func label(_ k: Int, repeat r: Int) -> String { points[k].label + (repeats > 1 ? " (repeat \(r + 1))" : "") }
}

/// Where a run's points run.
public enum ExecutorKind: String, Codable, Sendable, CaseIterable {
  /// On this machine, as separate processes, `--jobs` points at once.
  case local
  /// As a Slurm job array, one task per point and repeat (`SlurmExecutor`).
  case slurm
}

extension ScenarioFile {
  /// Every point of the sweep resolved against its dataset (each opened once, for its image
  /// shape and classes) and validated: a bad value in any point is an error here, before anything runs.
  public func design(source: String) throws(ScenarioError) -> RunDesign {
    let repeats = self.repeats ?? 1
    guard repeats >= 1 && repeats <= 1000 else { throw .invalid(source: source, key: "repeats", reason: "must be 1 to 1000") }
    let grid = try expanded(source: source)
    var shapes: [String?: DatasetShape] = [:]  // by path: a swept dataset is opened once per value
    var points: [RunDesign.Point] = []
    for (label, file) in grid {
      let section = file.dataset ?? DatasetSection()
      let shape: DatasetShape
      if let known = shapes[section.path] {
        shape = known
      } else {
        shape = try DatasetShape(section, source: source)
        shapes[section.path] = shape
      }
      let s = try file.resolved(shape, source: source + (label == "base" ? "" : " (sweep point \(label))"))
      points.append(RunDesign.Point(label: label, scenario: s))
    }
    let slurm = try self.slurm?.validated(where: source, fromFile: true)
    return RunDesign(name: points.first?.scenario.name ?? "scenario", repeats: repeats, points: points, executor: executor, slurm: slurm)
  }

  /// This file's one point (no sweep) with every default filled in, validated.
  func resolved(_ shape: DatasetShape, source: String) throws(ScenarioError) -> Scenario {
    let m = model ?? ModelSection()
    let normalization: Normalization?
    do { normalization = try Normalization.parse(m.normalize?.text ?? "none", channels: shape.channels) } catch {
      throw .invalid(source: source, key: "model.normalize", reason: "\(error)")
    }
    let spec = ModelSpec(
      name: m.name ?? "lenet", channels: shape.channels, imageSize: m.size ?? shape.size, classes: m.classes ?? shape.classes,
      activation: m.activation, initializer: m.initializer, auxiliaryHead: m.auxiliaryHead, activationScope: m.activationScope,
      normalization: normalization)
    let d = dataset ?? DatasetSection()
    let f = federation ?? FederationSection()
    let clients = f.clients ?? 2
    let scenario = Scenario(
      name: name ?? "scenario", seed: seed ?? 0, model: spec,
      data: DataPlan(source: shape.source(count: d.count), partition: try partition(d, source: source), testFraction: d.testFraction ?? 0.2),
      federation: FederationPlan(
        clients: clients, rounds: f.rounds ?? 1, algorithm: f.algorithm ?? .fedsgd, localBatch: f.localBatch ?? 1,
        epochs: f.epochs ?? 1, learningRate: f.learningRate ?? 0.1, sample: f.sample ?? 1, deadline: f.deadline ?? 60,
        quorum: f.quorum ?? 1, host: f.host ?? "127.0.0.1", port: f.port ?? 0,
        security: f.security ?? .curve),
      defenses: defenses ?? [],
      privacy: dpSgd.map { .dpSGD(DPSGDSettings(clip: $0.clip ?? 1, noiseMultiplier: $0.noiseMultiplier ?? 1, delta: $0.delta ?? 1e-5)) } ?? .none,
      secureAggregation: secureAggregation ?? false,
      attack: attack.map { a in
        let method = a.method ?? .dlg
        return AttackPlan(
          method: method, iterations: a.iterations ?? method.defaultIterations, rounds: a.rounds ?? [1],
          victims: a.victims ?? [0], restarts: a.restarts ?? 1, threshold: a.threshold ?? 30, fedavgUpdate: a.fedavgUpdate,
          start: a.start)
      })
    let valid = try scenario.validated(source: source)
    try shape.check(valid, source: source)
    return valid
  }

  private func partition(_ d: DatasetSection, source: String) throws(ScenarioError) -> Partition {
    switch d.partition ?? "iid" {
    case "iid": return .iid
    case "dirichlet": return .dirichlet(alpha: d.alpha ?? 0.5)
    case "shards": return .shards(perClient: d.shards ?? 2)
    case let other: throw .invalid(source: source, key: "dataset.partition", reason: "is '\(other)'; iid, dirichlet or shards")
    }
  }
}

/// The image shape and classes of a scenario's dataset, read once by the launcher.
struct DatasetShape {
  var path: String
  var channels: Int
  var size: Int
  var classes: Int
  /// How many images the file holds (nil: the built-in shapes, as many as asked for).
  var images: Int?

  init(_ d: ScenarioFile.DatasetSection, source: String) throws(ScenarioError) {
    path = d.path ?? "shapes"
    if path == "shapes" {
      (channels, size, classes) = (3, 32, ImageDataset.shapeClasses.count)
      return
    }
    // Absolute, so every process reads the same file wherever it was started.
    path = URL(fileURLWithPath: path).standardizedFileURL.path
    let data: ImageDataset
    do { data = try Self.source(path, count: nil).load(seed: 0) } catch {
      throw .invalid(source: source, key: "dataset.path", reason: "cannot be read: \(error)")
    }
    guard data.height == data.width else {
      throw .invalid(source: source, key: "dataset.path", reason: "holds \(data.height)×\(data.width) images; the models take square ones")
    }
    (channels, size, classes, images) = (data.channels, data.height, data.classes, data.count)
  }

  /// The model has a class for every label, and every client at least one training image (the
  /// server keeps the test share first).
  func check(_ s: Scenario, source: String) throws(ScenarioError) {
    guard s.model.classes >= classes else {
      throw .invalid(source: source, key: "model.classes", reason: "is \(s.model.classes) but the dataset has \(classes) classes")
    }
    let total: Int
    switch s.data.source {
    case .shapes(let count): total = count
    case .files(_, let limit): total = min(limit ?? Int.max, images ?? Int.max)
    case .picture: total = 1
    }
    let train = total - s.data.testCount(of: total)
    guard train < s.federation.clients else { return }
    throw .invalid(
      source: source, key: "federation.clients",
      reason: "\(s.federation.clients) clients but only \(train) training images (\(total) less the test share): each client needs at least one")
  }

  func source(count: Int?) -> DataPlan.Source { Self.source(path, count: count) }

  /// What a scenario's `dataset.path` names: the built-in shapes, one picture (PNG or JPEG), or a
  /// dataset.
  static func source(_ path: String, count: Int?) -> DataPlan.Source {
    if path == "shapes" { return .shapes(count: count ?? 200) }
    if ImageFile.isImageName(path) { return .picture(path: path) }
    return .files(path: path, limit: count)
  }
}
