import FedData
import Tensors

/// A resolved, validated scenario: what the launcher writes to a point's `scenario.json` and
/// every process reads. Nothing in it is left to a default and nothing is optional but the
/// attack, whose absence means no adversary runs. The file as written, with its defaults and its
/// sweep, is `ScenarioFile` in FedSimKit; `validated(source:)` checks every range, and each
/// process checks again what it is given.
public struct Scenario: Codable, Sendable, Equatable {
  public var name: String
  public var seed: UInt64
  /// The model, its input shape and classes already resolved against the dataset.
  public var model: ModelSpec
  public var data: DataPlan
  public var federation: FederationPlan
  /// Client-side defenses, applied in order to every update.
  public var defenses: [Defense]
  /// How clients compute their updates: plain SGD or DP-SGD.
  public var privacy: Privacy
  /// Simulated secure aggregation: pairwise masks that cancel in the sum.
  public var secureAggregation: Bool
  /// The honest-but-curious server's attack; nil when the scenario attacks nothing.
  public var attack: AttackPlan?

  public init(
    name: String, seed: UInt64, model: ModelSpec, data: DataPlan, federation: FederationPlan,
    defenses: [Defense], privacy: Privacy, secureAggregation: Bool, attack: AttackPlan?
  ) {
    (self.name, self.seed, self.model, self.data, self.federation) = (name, seed, model, data, federation)
    (self.defenses, self.privacy, self.secureAggregation, self.attack) = (defenses, privacy, secureAggregation, attack)
  }

  enum CodingKeys: String, CodingKey {
    case name, seed, model, data, federation, defenses, privacy, attack
    case secureAggregation = "secure_aggregation"
  }
}

/// Where the images come from and how they are split.
public struct DataPlan: Codable, Sendable, Equatable {
  /// How many of `images` the server keeps for testing.
  public func testCount(of images: Int) -> Int { Int((Double(images) * testFraction).rounded()) }

  public enum Source: Codable, Sendable, Equatable {
    /// The built-in generated shapes.
    case shapes(count: Int)
    /// A dataset file or folder, all of it or its first `limit` images.
    case files(path: String, limit: Int?)
    /// One PNG as a one-image dataset.
    case picture(path: String)
  }

  public var source: Source
  public var partition: Partition
  /// The share of images the server keeps to measure test accuracy.
  public var testFraction: Double

  public init(source: Source, partition: Partition, testFraction: Double) {
    (self.source, self.partition, self.testFraction) = (source, partition, testFraction)
  }

  enum CodingKeys: String, CodingKey {
    case source, partition
    case testFraction = "test_fraction"
  }
}

/// The federation's shape: who takes part, how rounds run and what clients compute.
public struct FederationPlan: Codable, Sendable, Equatable {
  public var clients: Int
  public var rounds: Int
  public var algorithm: Algorithm
  public var localBatch: Int
  /// Local epochs per round (FedAvg).
  public var epochs: Int
  public var learningRate: Double
  /// The fraction of clients sampled each round.
  public var sample: Double
  /// Seconds a round (and registration) waits before closing with what it has.
  public var deadline: Double
  /// Updates a round needs to count.
  public var quorum: Int
  /// The address the server binds.
  public var host: String
  /// The clients' port (the tap's is the next one), fixed so processes started by hand on other
  /// hosts know where to connect; 0: any free port, announced in the point's endpoints.json.
  public var port: Int
  /// How peers prove who they are (docs/security.md).
  public var security: Security

  public init(
    clients: Int, rounds: Int, algorithm: Algorithm, localBatch: Int, epochs: Int, learningRate: Double,
    sample: Double, deadline: Double, quorum: Int, host: String, port: Int = 0, security: Security = .curve
  ) {
    (self.clients, self.rounds, self.algorithm, self.localBatch, self.epochs) = (clients, rounds, algorithm, localBatch, epochs)
    (self.learningRate, self.sample, self.deadline, self.quorum, self.host) = (learningRate, sample, deadline, quorum, host)
    (self.port, self.security) = (port, security)
  }

  enum CodingKeys: String, CodingKey {
    case clients, rounds, algorithm, epochs, sample, deadline, quorum, host, port, security
    case localBatch = "local_batch", learningRate = "learning_rate"
  }

  /// The endpoints clients and the adversary connect to when the port is fixed.
  public var fixedEndpoints: Endpoints? {
    guard port != 0 else { return nil }
    let h = host.contains(":") ? "[\(host)]" : host
    return Endpoints(clients: "tcp://\(h):\(port)", tap: "tcp://\(h):\(port + 1)")
  }

  /// Whether `host` is this machine's loopback, reachable by local processes only.
  public var isLoopback: Bool { host == "localhost" || host == "::1" || host.hasPrefix("127.") }
}

/// How the federation's peers authenticate.
public enum Security: String, Codable, Sendable, CaseIterable {
  /// ZeroMQ CURVE: the launcher makes a key pair per process; the server takes only the clients'
  /// keys on its client socket and only the adversary's on the tap, and binds each client's
  /// identity to its key. Messages are encrypted.
  case curve
  /// No authentication: any local process may join. Only on loopback.
  case none
}

/// What clients send and how the server aggregates it.
public enum Algorithm: String, Codable, Sendable, CaseIterable {
  /// One gradient per client per round; the server takes one SGD step along their mean.
  case fedsgd
  /// Local epochs of SGD; clients send weight changes, the server averages them.
  case fedavg
}

/// How clients compute their updates.
public enum Privacy: Codable, Sendable, Equatable {
  case none
  /// DP-SGD: per-example clipping and Gaussian noise.
  case dpSGD(DPSGDSettings)

  /// The DP-SGD settings, when clients use DP-SGD.
  public var dpSGD: DPSGDSettings? {
    if case .dpSGD(let s) = self { return s }
    return nil
  }
}

/// DP-SGD's parameters (Abadi et al. 2016).
public struct DPSGDSettings: Codable, Sendable, Equatable {
  /// The per-example L2 clipping norm.
  public var clip: Double
  /// The noise standard deviation as a multiple of `clip`.
  public var noiseMultiplier: Double
  /// The δ at which ε is reported.
  public var delta: Double

  public init(clip: Double, noiseMultiplier: Double, delta: Double) {
    (self.clip, self.noiseMultiplier, self.delta) = (clip, noiseMultiplier, delta)
  }

  enum CodingKeys: String, CodingKey {
    case clip, delta
    case noiseMultiplier = "noise_multiplier"
  }
}

/// The attack the server's adversary runs on what the tap shows.
public struct AttackPlan: Codable, Sendable, Equatable {
  public var method: AttackKind
  public var iterations: Int
  /// Rounds whose updates are attacked (from 1).
  public var rounds: [Int]
  /// Clients whose updates are attacked.
  public var victims: [Int]
  /// Fresh starts at most per update.
  public var restarts: Int
  /// PSNR (dB) from which an image counts as recovered.
  public var threshold: Double
  /// How a FedAvg update is read (nil: as one gradient step).
  public var fedavgUpdate: FedAvgReading?
  /// Where the dummy images start (nil: normal for one image, uniform for a batch).
  public var start: AttackStart?

  public init(
    method: AttackKind, iterations: Int, rounds: [Int], victims: [Int], restarts: Int, threshold: Double,
    fedavgUpdate: FedAvgReading? = nil, start: AttackStart? = nil
  ) {
    (self.method, self.iterations, self.rounds, self.victims, self.restarts, self.threshold) =
      (method, iterations, rounds, victims, restarts, threshold)
    (self.fedavgUpdate, self.start) = (fedavgUpdate, start)
  }

  enum CodingKeys: String, CodingKey {
    case method, iterations, rounds, victims, restarts, threshold, start
    case fedavgUpdate = "fedavg_update"
  }
}

/// Where an optimising attack's dummy images start (the attack library's `DummyInitialization`).
public enum AttackStart: String, Codable, Sendable, CaseIterable {
  /// Standard normal pixels (DLG's).
  case normal
  /// Uniform over the pixel range.
  case uniform
  /// R-GAP's closed-form images and labels, then optimised (R-GAP's models only).
  case rgap
}

/// How the adversary reads a FedAvg update (a weight change after local training).
public enum FedAvgReading: String, Codable, Sendable, CaseIterable {
  /// As one SGD step along the mean gradient, −Δ / (η · steps).
  case oneStep = "one-step"
  /// By replaying the client's local SGD steps on the dummy images (each on the whole batch).
  case replay
}

/// The attacks by name (the attack library's `AttackMethod`, which the core does not link).
public enum AttackKind: String, Codable, Sendable, CaseIterable {
  case dlg, idlg, wdlg, ig, rgap
}

extension Scenario {
  /// Whether client `id` keeps its private batch of `round` for scoring: an attacked victim's,
  /// or every client's under secure aggregation (the adversary attacks the aggregate).
  public func keepsTruth(client id: Int, round: Int) -> Bool {
    guard let attack, attack.rounds.contains(round) else { return false }
    return secureAggregation || attack.victims.contains(id)
  }
}
