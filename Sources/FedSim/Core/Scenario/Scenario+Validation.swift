import Tensors

/// The largest values a scenario may ask for: beyond them a run would exhaust memory or time on
/// this kind of machine long before it said anything useful (`scenarios/README.md`).
public enum ScenarioLimits {
  public static let clients = 1024
  public static let rounds = 100_000
  public static let localBatch = 4096
  /// The most values in one batch of images (batch × channels × size²): 256 MiB of floats.
  public static let batchElements = 1 << 26
  public static let epochs = 10_000
  public static let images = 10_000_000
  /// Drawn `shapes` images (each process draws them all: 100,000 are 1.2 GB).
  public static let shapes = 100_000
  public static let imageSize = 1024
  public static let classes = 100_000
  public static let iterations = 1_000_000
  public static let restarts = 100
  public static let deadline = 86_400.0
}

extension Scenario {
  /// The scenario itself if every value is in range, else the first value that is not, named
  /// by its key. The launcher checks each point at load; every process checks again at start.
  public func validated(source: String) throws(ScenarioError) -> Scenario {
    func check(_ ok: Bool, _ key: String, _ why: String) throws(ScenarioError) {
      if !ok { throw ScenarioError.invalid(source: source, key: key, reason: why) }
    }
    try check(!name.isEmpty && name.count <= 128, "name", "must have 1 to 128 characters")
    try check(
      name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) } && !name.hasPrefix("."), "name",
      "'\(name)' names the run folder: only letters, digits, '-', '_' and '.', not first")
    try validateModel(check)
    try validateData(check)
    try validateFederation(check)
    for (i, d) in defenses.enumerated() { try validate(d, key: "defenses[\(i)]", check) }
    if case .dpSGD(let dp) = privacy {
      try check(dp.clip.isFinite && dp.clip > 0, "dp_sgd.clip", "must be a positive number")
      try check(dp.noiseMultiplier.isFinite && dp.noiseMultiplier > 0, "dp_sgd.noise_multiplier", "must be a positive number")
      try check(dp.delta > 0 && dp.delta < 1, "dp_sgd.delta", "must be in (0, 1)")
      let side = ModelZoo.smallestSideForOneImage(model)
      try check(
        ModelZoo.smallestBatch(model) == 1, "dp_sgd",
        "DP-SGD computes each image's gradient alone: at \(model.imageSize)×\(model.imageSize) \(model.name)'s last batch "
          + "norm would normalise one value a channel; use images of at least \(side)×\(side) (model.size)")
    }
    if let attack { try validate(attack, check) }
    return self
  }

  typealias Check = (Bool, String, String) throws(ScenarioError) -> Void

  private func validateModel(_ check: Check) throws(ScenarioError) {
    let names = ModelZoo.entries.map(\.name)
    try check(names.contains(model.name), "model.name", "'\(model.name)' is not in the zoo (\(names.joined(separator: ", ")))")
    try check((1...4).contains(model.channels), "model.channels", "must be 1 to 4")
    try check((4...ScenarioLimits.imageSize).contains(model.imageSize), "model.size",
      "must be 4 to \(ScenarioLimits.imageSize), not \(model.imageSize) (when absent, the dataset's image side: set it to resize the images)")
    try check((2...ScenarioLimits.classes).contains(model.classes), "model.classes", "must be 2 to \(ScenarioLimits.classes)")
    do { try ModelZoo.check(model) } catch { try check(false, "model", "\(error)") }
  }

  private func validateData(_ check: Check) throws(ScenarioError) {
    switch data.source {
    case .shapes(let count):
      try check((1...ScenarioLimits.shapes).contains(count), "dataset.count", "must be 1 to \(ScenarioLimits.shapes) drawn shapes")
    case .files(let path, let limit):
      try check(!path.isEmpty, "dataset.path", "must not be empty")
      if let limit { try check((1...ScenarioLimits.images).contains(limit), "dataset.count", "must be 1 to \(ScenarioLimits.images)") }
    case .picture(let path):
      try check(!path.isEmpty, "dataset.path", "must not be empty")
    }
    switch data.partition {
    case .iid: break
    case .dirichlet(let alpha):
      try check(alpha.isFinite && alpha >= 0.001 && alpha <= 1e6, "dataset.alpha", "must be in [0.001, 1e6]")
    case .shards(let perClient):
      try check((1...1000).contains(perClient), "dataset.shards", "must be 1 to 1000")
    }
    try check(data.testFraction >= 0 && data.testFraction < 1, "dataset.test_fraction", "must be in [0, 1)")
  }

  private func validateFederation(_ check: Check) throws(ScenarioError) {
    let f = federation
    try check((1...ScenarioLimits.clients).contains(f.clients), "federation.clients", "must be 1 to \(ScenarioLimits.clients)")
    try check((1...ScenarioLimits.rounds).contains(f.rounds), "federation.rounds", "must be 1 to \(ScenarioLimits.rounds)")
    try check((1...ScenarioLimits.localBatch).contains(f.localBatch), "federation.local_batch", "must be 1 to \(ScenarioLimits.localBatch)")
    let values = f.localBatch * model.channels * model.imageSize * model.imageSize
    try check(values <= ScenarioLimits.batchElements, "federation.local_batch", "\(f.localBatch) images of \(model.imageSize)² are more than \(ScenarioLimits.batchElements) values")
    do { try ModelZoo.check(model, batch: f.localBatch) } catch { try check(false, "federation.local_batch", "\(error)") }
    try check((1...ScenarioLimits.epochs).contains(f.epochs), "federation.epochs", "must be 1 to \(ScenarioLimits.epochs)")
    try check(f.learningRate.isFinite && f.learningRate > 0 && f.learningRate <= 1e6, "federation.learning_rate", "must be a positive number up to 1e6")
    try check(f.sample > 0 && f.sample <= 1, "federation.sample", "must be in (0, 1]")
    try check(f.deadline > 0 && f.deadline <= ScenarioLimits.deadline, "federation.deadline", "must be in (0, \(Int(ScenarioLimits.deadline))] seconds")
    try check(f.quorum >= 1 && f.quorum <= f.clients, "federation.quorum", "must be between 1 and the number of clients (\(f.clients))")
    try check(!f.host.isEmpty && f.host.count <= 255, "federation.host", "must be a host name or address")
    try check(f.port == 0 || (1024...65534).contains(f.port), "federation.port", "must be 1024 to 65534 (the tap takes the next port), or 0 for any free port")
    try check(
      f.security == .curve || f.isLoopback, "federation.security",
      "'none' lets anyone who reaches \(f.host) join: beyond loopback the federation needs 'curve'")
  }

  private func validate(_ d: Defense, key: String, _ check: Check) throws(ScenarioError) {
    switch d {
    case .gaussianNoise(let v), .laplaceNoise(let v), .clip(let v):
      try check(v.isFinite && v >= 0, key + "." + d.key, "must be a number ≥ 0")
    case .prune(let p), .pruneLayer(let p):
      try check(p >= 0 && p < 1, key + "." + d.key, "is a fraction in [0, 1)")
    case .quantize:
      break
    }
  }

  private func validate(_ a: AttackPlan, _ check: Check) throws(ScenarioError) {
    if a.method == .rgap {
      try validateRGAP(check, key: "attack.method rgap")
      try check(a.start == nil, "attack.start", "R-GAP solves in closed form: it has no dummies to start")
    } else {
      try check((1...ScenarioLimits.iterations).contains(a.iterations), "attack.iterations", "must be 1 to \(ScenarioLimits.iterations)")
    }
    try check(!a.rounds.isEmpty && a.rounds.allSatisfy { $0 >= 1 && $0 <= federation.rounds }, "attack.rounds", "rounds run from 1 to \(federation.rounds)")
    try check(!a.victims.isEmpty && a.victims.allSatisfy { $0 >= 0 && $0 < federation.clients }, "attack.victims", "clients are 0 to \(federation.clients - 1)")
    try check((1...ScenarioLimits.restarts).contains(a.restarts), "attack.restarts", "must be 1 to \(ScenarioLimits.restarts)")
    try check(a.threshold.isFinite, "attack.threshold", "must be a number of dB")
    if a.start == .rgap { try validateRGAP(check, key: "attack.start rgap") }
    if a.fedavgUpdate == .replay {
      try check(federation.algorithm == .fedavg, "attack.fedavg_update", "replay reads FedAvg updates: federation.algorithm is \(federation.algorithm.rawValue)")
      try check(a.method != .rgap, "attack.fedavg_update", "R-GAP inverts one gradient and replays nothing")
    }
  }

  /// R-GAP's conditions, checked before any process starts: one client's gradient, from a chain
  /// of convolutions, linear layers and invertible activations (a batch's labels must also
  /// differ, which only the attack can see).
  private func validateRGAP(_ check: Check, key: String) throws(ScenarioError) {
    try check(federation.algorithm == .fedsgd, "federation.algorithm", "R-GAP (\(key)) inverts a gradient: the algorithm must be fedsgd")
    try check(!secureAggregation, "secure_aggregation", "R-GAP (\(key)) inverts one client's gradient, not a masked sum")
    try check(["lenet", "cnn6", "mlp"].contains(model.name), "model.name", "R-GAP (\(key)) inverts lenet, cnn6 or mlp; \(model.name) has pooling, batch norm or branches")
    try check(model.activation != .relu, "model.activation", "R-GAP (\(key)) needs an invertible activation (sigmoid, tanh, leaky-relu), not relu")
  }
}
