import Adversary
import Foundation
import Tensors
import Yams

/// A federated-learning scenario, as a YAML file states it (`scenarios/README.md`). Every key is
/// optional in the file; `resolved()` fills in the defaults, and the resolved scenario is what
/// the processes receive and the run folder keeps.
public struct Scenario: Codable, Sendable, Equatable {
  public var name: String?
  public var seed: UInt64?
  public var repeats: Int?
  public var model: ModelSection?
  public var dataset: DatasetSection?
  public var federation: FederationSection?
  public var attack: AttackSection?
  public var defenses: [Defense]?
  /// DP-SGD on every client: per-example clipping and Gaussian noise (absent: plain SGD).
  public var dpSgd: DPSGD?
  /// Simulated secure aggregation: clients add pairwise masks that cancel in the sum, so the
  /// server (and its tap) sees only masked updates and their aggregate.
  public var secureAggregation: Bool?
  /// Defense settings to sweep: every combination runs as its own point, with its own processes.
  public var sweep: Sweep?

  enum CodingKeys: String, CodingKey {
    case name, seed, repeats, model, dataset, federation, attack, defenses, sweep
    case dpSgd = "dp_sgd", secureAggregation = "secure_aggregation"
  }

  public struct ModelSection: Codable, Sendable, Equatable {
    public var name: String?
    public var activation: Activation?
    /// Classes of the output; the dataset's when absent.
    public var classes: Int?
  }

  public struct DatasetSection: Codable, Sendable, Equatable {
    /// A dataset file or folder, or `shapes` for the built-in set.
    public var path: String?
    /// Use only the first `count` images (all when absent).
    public var count: Int?
    /// `iid`, `dirichlet` or `shards`.
    public var partition: String?
    public var alpha: Double?
    /// The share of images the server keeps to measure test accuracy.
    public var testFraction: Double?

    enum CodingKeys: String, CodingKey {
      case path, count, partition, alpha
      case testFraction = "test_fraction"
    }
  }

  public struct FederationSection: Codable, Sendable, Equatable {
    public var clients: Int?
    public var rounds: Int?
    /// `fedsgd` (one gradient per client) or `fedavg` (local epochs, weight deltas).
    public var algorithm: String?
    public var localBatch: Int?
    public var epochs: Int?
    public var learningRate: Double?
    /// The fraction of clients sampled each round.
    public var sample: Double?
    /// Seconds a round waits for updates before closing with what it has.
    public var deadline: Double?
    /// Updates a round needs to count.
    public var quorum: Int?
    /// The host the server binds (`127.0.0.1`; set another address to let clients on other
    /// hosts connect).
    public var host: String?

    enum CodingKeys: String, CodingKey {
      case clients, rounds, algorithm, epochs, sample, deadline, quorum, host
      case localBatch = "local_batch", learningRate = "learning_rate"
    }
  }

  public struct AttackSection: Codable, Sendable, Equatable {
    public var method: AttackMethod?
    public var iterations: Int?
    public var rounds: [Int]?
    public var victims: [Int]?
    public var restarts: Int?
    public var threshold: Double?
  }

  /// Values to sweep; the grid is every combination. A noise, clipping or pruning value of 0
  /// means that defense is off at that point; `local_batch` is the clients' batch size.
  public struct Sweep: Codable, Sendable, Equatable {
    public var gaussianNoise: [Float]?
    public var laplaceNoise: [Float]?
    public var clip: [Float]?
    public var prune: [Float]?
    public var localBatch: [Int]?
    /// DP-SGD's noise multiplier (0: no DP-SGD at that point).
    public var dpNoiseMultiplier: [Double]?
    /// Attacks to compare on the same updates (each point re-runs the federation with the same
    /// seeds, so the clients send the same updates).
    public var attackMethod: [AttackMethod]?

    enum CodingKeys: String, CodingKey {
      case clip, prune
      case gaussianNoise = "gaussian_noise", laplaceNoise = "laplace_noise", localBatch = "local_batch"
      case dpNoiseMultiplier = "dp_noise_multiplier", attackMethod = "attack_method"
    }
  }

  /// One client-side defense; exactly one key is set.
  public struct Defense: Codable, Sendable, Equatable {
    public var gaussianNoise: Float?
    public var laplaceNoise: Float?
    public var clip: Float?
    public var prune: Float?
    /// Per-layer pruning: each layer loses its own fraction of smallest magnitudes.
    public var pruneLayer: Float?
    /// `fp16` or `int8` (per-tensor symmetric scale).
    public var quantize: String?

    public init(
      gaussianNoise: Float? = nil, laplaceNoise: Float? = nil, clip: Float? = nil, prune: Float? = nil,
      pruneLayer: Float? = nil, quantize: String? = nil
    ) {
      (self.gaussianNoise, self.laplaceNoise, self.clip, self.prune, self.pruneLayer, self.quantize) =
        (gaussianNoise, laplaceNoise, clip, prune, pruneLayer, quantize)
    }

    enum CodingKeys: String, CodingKey {
      case clip, prune, quantize
      case gaussianNoise = "gaussian_noise", laplaceNoise = "laplace_noise", pruneLayer = "prune_layer"
    }

    public var label: String {
      if let v = gaussianNoise { return "gaussian_noise=\(v)" }
      if let v = laplaceNoise { return "laplace_noise=\(v)" }
      if let v = clip { return "clip=\(v)" }
      if let v = prune { return "prune=\(v)" }
      if let v = pruneLayer { return "prune_layer=\(v)" }
      if let v = quantize { return "quantize=\(v)" }
      return "none"
    }
  }
}

extension Scenario {
  /// The scenario with every default filled in.
  public func resolved() -> Scenario {
    var s = self
    s.name = name ?? "scenario"
    s.seed = seed ?? 0
    s.repeats = repeats ?? 1
    var m = model ?? ModelSection()
    m.name = m.name ?? "lenet"
    s.model = m
    var d = dataset ?? DatasetSection()
    d.path = d.path ?? "shapes"
    d.partition = d.partition ?? "iid"
    d.alpha = d.alpha ?? 0.5
    d.testFraction = d.testFraction ?? 0.2
    s.dataset = d
    var f = federation ?? FederationSection()
    f.clients = f.clients ?? 2
    f.rounds = f.rounds ?? 1
    f.algorithm = f.algorithm ?? "fedsgd"
    f.localBatch = f.localBatch ?? 1
    f.epochs = f.epochs ?? 1
    f.learningRate = f.learningRate ?? 0.1
    f.sample = f.sample ?? 1
    f.deadline = f.deadline ?? 60
    f.quorum = f.quorum ?? 1
    f.host = f.host ?? "127.0.0.1"
    s.federation = f
    if var a = attack {
      a.method = a.method ?? .dlg
      a.iterations = a.iterations ?? a.method!.defaultIterations
      a.rounds = a.rounds ?? [1]
      a.victims = a.victims ?? [0]
      a.restarts = a.restarts ?? 1
      a.threshold = a.threshold ?? 30
      s.attack = a
    }
    s.defenses = defenses ?? []
    if var dp = dpSgd {
      dp.clip = dp.clip ?? 1
      dp.noiseMultiplier = dp.noiseMultiplier ?? 1
      dp.delta = dp.delta ?? 1e-5
      s.dpSgd = dp
    }
    s.secureAggregation = secureAggregation ?? false
    return s
  }

  /// One point of the sweep: its label and its scenario (with no sweep left).
  public struct Point: Sendable {
    public var label: String
    public var scenario: Scenario
  }

  /// The sweep's grid, in order (the scenario itself when it has no sweep).
  public func points() -> [Point] {
    var base = resolved()
    base.sweep = nil
    guard let w = sweep else { return [Point(label: "base", scenario: base)] }
    typealias Axis = (name: String, values: [String], apply: [(inout Scenario) -> Void])
    func defenseAxis(_ name: String, _ values: [Float]?, _ make: @escaping (Float) -> Defense) -> Axis? {
      guard let values else { return nil }
      return (name, values.map { "\($0)" }, values.map { v in { s in if v > 0 { s.defenses!.append(make(v)) } } })
    }
    var axes: [Axis] = [
      defenseAxis("gaussian_noise", w.gaussianNoise) { Defense(gaussianNoise: $0) },
      defenseAxis("laplace_noise", w.laplaceNoise) { Defense(laplaceNoise: $0) },
      defenseAxis("clip", w.clip) { Defense(clip: $0) },
      defenseAxis("prune", w.prune) { Defense(prune: $0) },
      w.localBatch.map { b in ("local_batch", b.map { "\($0)" }, b.map { v in { s in s.federation!.localBatch = v } }) },
      w.dpNoiseMultiplier.map { m in
        ("dp_noise_multiplier", m.map { "\($0)" }, m.map { v in { s in
          if v > 0 {
            var dp = s.dpSgd ?? DPSGD(clip: 1, delta: 1e-5)
            dp.noiseMultiplier = v
            s.dpSgd = dp
          } else {
            s.dpSgd = nil
          }
        } })
      },
    ].compactMap { $0 }
    if let methods = w.attackMethod, base.attack != nil {
      axes.append(("attack_method", methods.map(\.rawValue), methods.map { m in { s in
        if s.attack!.iterations == s.attack!.method!.defaultIterations { s.attack!.iterations = m.defaultIterations }
        s.attack!.method = m
      } }))
    }
    var points = [Point(label: "", scenario: base)]
    for axis in axes {
      points = points.flatMap { p in
        zip(axis.values, axis.apply).map { value, apply in
          var s = p.scenario
          apply(&s)
          return Point(label: p.label.isEmpty ? "\(axis.name)=\(value)" : p.label + ", \(axis.name)=\(value)", scenario: s)
        }
      }
    }
    return points
  }

  /// Checks the values a YAML type check cannot: ranges and names.
  public func validate(source: String) throws(ScenarioError) {
    let s = resolved()
    func bad(_ key: String, _ why: String) -> ScenarioError { .invalid(source: source, key: key, reason: why) }
    let f = s.federation!
    guard f.clients! >= 1 else { throw bad("federation.clients", "must be at least 1") }
    guard f.rounds! >= 1 else { throw bad("federation.rounds", "must be at least 1") }
    guard ["fedsgd", "fedavg"].contains(f.algorithm!) else { throw bad("federation.algorithm", "is '\(f.algorithm!)'; fedsgd or fedavg") }
    guard f.localBatch! >= 1 else { throw bad("federation.local_batch", "must be at least 1") }
    guard f.epochs! >= 1 else { throw bad("federation.epochs", "must be at least 1") }
    guard f.sample! > 0 && f.sample! <= 1 else { throw bad("federation.sample", "must be in (0, 1]") }
    guard f.deadline! > 0 else { throw bad("federation.deadline", "must be positive") }
    guard f.quorum! >= 1 && f.quorum! <= f.clients! else { throw bad("federation.quorum", "must be between 1 and the number of clients") }
    guard ["iid", "dirichlet", "shards"].contains(s.dataset!.partition!) else {
      throw bad("dataset.partition", "is '\(s.dataset!.partition!)'; iid, dirichlet or shards")
    }
    guard s.dataset!.testFraction! >= 0 && s.dataset!.testFraction! < 1 else { throw bad("dataset.test_fraction", "must be in [0, 1)") }
    guard ModelZoo.entries.contains(where: { $0.name == s.model!.name! }) else {
      throw bad("model.name", "'\(s.model!.name!)' is not in the zoo (\(ModelZoo.entries.map(\.name).joined(separator: ", ")))")
    }
    guard s.repeats! >= 1 else { throw bad("repeats", "must be at least 1") }
    if let a = s.attack {
      guard a.iterations! >= 1 else { throw bad("attack.iterations", "must be at least 1") }
      guard a.rounds!.allSatisfy({ $0 >= 1 && $0 <= f.rounds! }) else { throw bad("attack.rounds", "rounds run from 1 to \(f.rounds!)") }
      guard a.victims!.allSatisfy({ $0 >= 0 && $0 < f.clients! }) else { throw bad("attack.victims", "clients are 0 to \(f.clients! - 1)") }
      guard a.restarts! >= 1 else { throw bad("attack.restarts", "must be at least 1") }
    }
    if let dp = s.dpSgd {
      guard dp.clip! > 0 else { throw bad("dp_sgd.clip", "must be positive") }
      guard dp.noiseMultiplier! > 0 else { throw bad("dp_sgd.noise_multiplier", "must be positive") }
      guard dp.delta! > 0 && dp.delta! < 1 else { throw bad("dp_sgd.delta", "must be in (0, 1)") }
    }
    for (i, d) in s.defenses!.enumerated() {
      let set = [d.gaussianNoise, d.laplaceNoise, d.clip, d.prune, d.pruneLayer].filter { $0 != nil }.count + (d.quantize == nil ? 0 : 1)
      guard set == 1 else {
        throw bad("defenses[\(i)]", "needs exactly one of gaussian_noise, laplace_noise, clip, prune, prune_layer, quantize")
      }
      if let p = d.pruneLayer, !(p >= 0 && p < 1) { throw bad("defenses[\(i)].prune_layer", "is a fraction in [0, 1)") }
      if let q = d.quantize, !["fp16", "int8"].contains(q) { throw bad("defenses[\(i)].quantize", "is '\(q)'; fp16 or int8") }
      if let p = d.prune, !(p >= 0 && p < 1) { throw bad("defenses[\(i)].prune", "is a fraction in [0, 1)") }
      for v in [d.gaussianNoise, d.laplaceNoise, d.clip].compactMap({ $0 }) where !(v >= 0) {
        throw bad("defenses[\(i)]", "must not be negative")
      }
    }
  }

  /// Reads a scenario from YAML: a key the format does not have, or a value of the wrong type,
  /// is an error with the line and column.
  public static func load(yaml text: String, source: String) throws(ScenarioError) -> Scenario {
    let node: Node
    do {
      guard let n = try Yams.compose(yaml: text) else { return Scenario() }
      node = n
    } catch {
      throw .syntax(source: source, reason: "\(error)")
    }
    let scenario: Scenario
    do { scenario = try YAMLDecoder().decode(Scenario.self, from: node) } catch let error as DecodingError {
      let (path, reason) = describe(error)
      throw .type(source: source, position: position(of: path, in: node), key: dotted(path), reason: reason)
    } catch {
      throw .syntax(source: source, reason: "\(error)")
    }
    // Every key in the file must be one the scenario has: re-encode the resolved scenario (all
    // keys present) and look each file key up in it.
    let known = try! JSONSerialization.jsonObject(with: JSONEncoder().encode(scenario.resolved()))
    try checkKeys(node, against: known, path: [], source: source)
    try scenario.validate(source: source)
    return scenario
  }

  public static func load(path: String) throws(ScenarioError) -> Scenario {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
      throw .syntax(source: path, reason: "cannot read the file")
    }
    return try load(yaml: text, source: path)
  }

  private static func checkKeys(_ node: Node, against known: Any, path: [String], source: String) throws(ScenarioError) {
    switch node {
    case .mapping(let mapping):
      let dict = known as? [String: Any] ?? [:]
      for (key, value) in mapping {
        let name = key.string ?? "\(key)"
        guard let sub = dict[name] else {
          throw .unknownKey(source: source, position: key.mark.map { ($0.line, $0.column) }, key: dotted(path + [name]))
        }
        try checkKeys(value, against: sub, path: path + [name], source: source)
      }
    case .sequence(let sequence):
      let array = known as? [Any] ?? []
      for (i, value) in sequence.enumerated() where i < array.count {
        try checkKeys(value, against: array[i], path: path + ["[\(i)]"], source: source)
      }
    default:
      break
    }
  }

  private static func describe(_ error: DecodingError) -> ([CodingKey], String) {
    switch error {
    case .typeMismatch(let type, let c): return (c.codingPath, "expected \(type)")
    case .valueNotFound(let type, let c): return (c.codingPath, "expected \(type)")
    case .keyNotFound(let key, let c): return (c.codingPath + [key], "missing")
    case .dataCorrupted(let c): return (c.codingPath, c.debugDescription)
    @unknown default: return ([], "\(error)")
    }
  }

  private static func dotted(_ path: [String]) -> String {
    path.reduce("") { $0.isEmpty || $1.hasPrefix("[") ? $0 + $1 : $0 + "." + $1 }
  }

  private static func dotted(_ path: [CodingKey]) -> String {
    dotted(path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue })
  }

  private static func position(of path: [CodingKey], in root: Node) -> (Int, Int)? {
    var node = root
    for key in path {
      if let i = key.intValue, case .sequence(let s) = node, i < s.count {
        node = s[i]
      } else if case .mapping(let m) = node, let v = m[key.stringValue] {
        node = v
      } else {
        break
      }
    }
    return node.mark.map { ($0.line, $0.column) }
  }
}

/// Why a scenario cannot run, naming the file, and the line and column where there is one.
public enum ScenarioError: Error, CustomStringConvertible {
  case syntax(source: String, reason: String)
  case unknownKey(source: String, position: (Int, Int)?, key: String)
  case type(source: String, position: (Int, Int)?, key: String, reason: String)
  case invalid(source: String, key: String, reason: String)

  public var description: String {
    func at(_ s: String, _ p: (Int, Int)?) -> String { p.map { "\(s):\($0.0):\($0.1)" } ?? s }
    switch self {
    case .syntax(let s, let r): return "\(s): \(r)"
    case .unknownKey(let s, let p, let k): return "\(at(s, p)): unknown key '\(k)'"
    case .type(let s, let p, let k, let r): return "\(at(s, p)): '\(k)': \(r)"
    case .invalid(let s, let k, let r): return "\(s): '\(k)' \(r)"
    }
  }
}

extension Scenario {
  /// The scenario with `key=value` overrides applied (`federation.rounds=3`, `attack.method=wdlg`,
  /// `defenses=[{prune: 0.5}]`); only keys the scenario has may be set, and the value is YAML.
  public func overriding(_ assignments: [String], source: String) throws(ScenarioError) -> Scenario {
    guard !assignments.isEmpty else { return self }
    var root = try! JSONSerialization.jsonObject(with: JSONEncoder().encode(resolved())) as! [String: Any]
    for assignment in assignments {
      guard let eq = assignment.firstIndex(of: "=") else {
        throw .invalid(source: "--set", key: assignment, reason: "is not KEY=VALUE")
      }
      let path = assignment[..<eq].split(separator: ".").map(String.init)
      let text = String(assignment[assignment.index(after: eq)...])
      let value: Any
      do { value = try Yams.load(yaml: text) ?? NSNull() } catch {
        throw .invalid(source: "--set", key: assignment, reason: "has a value that is not YAML")
      }
      // Sections a scenario may leave out (attack, sweep) may be set too; the strict loader
      // below then checks every key inside them.
      func set(_ dict: [String: Any], _ path: ArraySlice<String>, top: Bool) throws(ScenarioError) -> [String: Any] {
        var d = dict
        let key = path.first!
        if d[key] == nil && top && ["attack", "sweep"].contains(key) && path.count > 1 { d[key] = [String: Any]() }
        guard d[key] != nil || (top && ["attack", "sweep"].contains(key)) else {
          throw .unknownKey(source: "--set", position: nil, key: path.joined(separator: "."))
        }
        if path.count == 1 {
          d[key] = value
        } else {
          guard let sub = d[key] as? [String: Any] else {
            throw .unknownKey(source: "--set", position: nil, key: path.joined(separator: "."))
          }
          d[key] = try set(sub, path.dropFirst(), top: false)
        }
        return d
      }
      root = try set(root, path[...], top: true)
    }
    let data = try! JSONSerialization.data(withJSONObject: root)
    let yaml = String(decoding: data, as: UTF8.self)  // JSON is YAML: reuse the strict loader
    return try Scenario.load(yaml: yaml, source: source + " with --set " + assignments.joined(separator: " "))
  }
}
