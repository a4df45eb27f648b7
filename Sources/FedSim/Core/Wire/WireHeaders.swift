/// The bounds a receiver holds every number a peer declares to (`docs/protocol.md`).
public enum WireLimits {
  public static let round = 1_000_000
  public static let client = 65_535
  public static let examples = 100_000_000
  public static let batch = 4096
  public static let steps = 100_000_000
  public static let runName = 256
}

/// A client announcing itself to the server.
public struct Hello: Codable, Sendable, Equatable {
  public var run: String
  public var client: Int
  public init(run: String, client: Int) { (self.run, self.client) = (run, client) }
}

/// Server → client: the global model for a round, and who else was selected (for masks).
public struct ModelHeader: Codable, Sendable, Equatable {
  public var run: String
  public var round: Int
  public var client: Int
  public var selected: [Int]
  public init(run: String, round: Int, client: Int, selected: [Int]) {
    (self.run, self.round, self.client, self.selected) = (run, round, client, selected)
  }
}

/// Client → server: an update for a round.
public struct UpdateHeader: Codable, Sendable, Equatable {
  public var run: String
  public var round: Int
  public var client: Int
  /// The examples behind the update: its weight in aggregation.
  public var examples: Int
  /// The local batch size (what an attacker is assumed to know).
  public var batch: Int
  /// Local SGD steps taken (1 in FedSGD).
  public var steps: Int
  public init(run: String, round: Int, client: Int, examples: Int, batch: Int, steps: Int) {
    (self.run, self.round, self.client, self.examples, self.batch, self.steps) = (run, round, client, examples, batch, steps)
  }
}

/// Server → adversary: an update exactly as a client sent it (or, under secure aggregation, the
/// aggregate, `client` −1, with the clients in it), with the model it was computed on.
public struct TapHeader: Codable, Sendable, Equatable {
  public var run: String
  public var round: Int
  public var client: Int
  public var clients: [Int]
  public var algorithm: Algorithm
  public var learningRate: Double
  public var examples: Int
  public var batch: Int
  public var steps: Int

  public init(
    run: String, round: Int, client: Int, clients: [Int], algorithm: Algorithm, learningRate: Double, examples: Int,
    batch: Int, steps: Int
  ) {
    (self.run, self.round, self.client, self.clients, self.algorithm) = (run, round, client, clients, algorithm)
    (self.learningRate, self.examples, self.batch, self.steps) = (learningRate, examples, batch, steps)
  }

  enum CodingKeys: String, CodingKey {
    case run, round, client, clients, algorithm, examples, batch, steps
    case learningRate = "learning_rate"
  }
}

/// Server → everyone: the run is over.
public struct Done: Codable, Sendable, Equatable {
  public var run: String
  public init(run: String) { self.run = run }
}

/// Liveness, both ways.
public struct Heartbeat: Codable, Sendable, Equatable {
  public var run: String
  public var round: Int
  public init(run: String, round: Int) { (self.run, self.round) = (run, round) }
}

/// The typed header of each kind of message.
public enum WireBody: Sendable, Equatable {
  case hello(Hello)
  case model(ModelHeader)
  case update(UpdateHeader)
  case tap(TapHeader)
  case done(Done)
  case heartbeat(Heartbeat)

  public var kind: WireMessage.Kind {
    switch self {
    case .hello: .hello
    case .model: .model
    case .update: .update
    case .tap: .tap
    case .done: .done
    case .heartbeat: .heartbeat
    }
  }

  public var run: String {
    switch self {
    case .hello(let h): h.run
    case .model(let h): h.run
    case .update(let h): h.run
    case .tap(let h): h.run
    case .done(let h): h.run
    case .heartbeat(let h): h.run
    }
  }
}
