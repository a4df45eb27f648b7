import Foundation
import Tensors

/// The folder of one run: the resolved scenario, the endpoints the server bound, one events log
/// per process (JSON lines), the ground truth the clients kept, the adversary's reconstructions,
/// and the summary. Every file is written atomically, so a file present is a file complete.
public struct RunFolder: Sendable {
  public var path: String
  public init(_ path: String) { self.path = path }

  public var scenario: String { path + "/scenario.json" }
  public var endpoints: String { path + "/endpoints.json" }
  public func events(_ role: String) -> String { path + "/events/\(role).jsonl" }
  public func truth(round: Int, client: Int) -> String { path + "/truth/r\(round)-c\(client).safetensors" }
  public func reconstruction(round: Int, client: Int) -> String {
    path + "/reconstructions/r\(round)-c\(client).safetensors"
  }

  public func timeline(round: Int, client: Int) -> String { path + "/timelines/r\(round)-c\(client).png" }
  /// The adversary's latest snapshot of an attack under way (for live views).
  public func live(round: Int, client: Int) -> String { path + "/live/r\(round)-c\(client).safetensors" }

  public func create() throws {
    for sub in ["", "/events", "/truth", "/reconstructions", "/timelines", "/live"] {
      try FileManager.default.createDirectory(atPath: path + sub, withIntermediateDirectories: true)
    }
  }

  public func write(_ data: Data, to file: String) throws {
    try data.write(to: URL(fileURLWithPath: file), options: .atomic)
  }

  public func writeJSON<T: Encodable>(_ value: T, to file: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try write(encoder.encode(value) + Data("\n".utf8), to: file)
  }

  public func readScenario() throws -> Scenario {
    try JSONDecoder().decode(Scenario.self, from: Data(contentsOf: URL(fileURLWithPath: scenario)))
  }

  public func readEndpoints() throws -> Endpoints {
    try JSONDecoder().decode(Endpoints.self, from: Data(contentsOf: URL(fileURLWithPath: endpoints)))
  }
}

/// Where the server listens: clients connect to `clients` (ROUTER), the adversary to `tap` (PUB).
public struct Endpoints: Codable, Sendable {
  public var clients: String
  public var tap: String
}

/// An append-only JSON-lines log, one line per event, flushed as written.
public final class EventLog: @unchecked Sendable {
  let handle: FileHandle?
  let role: String
  let lock = NSLock()

  public init(path: String, role: String) {
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    handle = FileHandle(forWritingAtPath: path)
    self.role = role
  }

  public func log(_ event: String, _ fields: [String: Any] = [:]) {
    var object = fields
    object["event"] = event
    object["role"] = role
    object["time"] = Date().timeIntervalSince1970
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
    lock.lock()
    defer { lock.unlock() }
    handle?.write(data + Data("\n".utf8))
  }
}

/// What every process derives the same way from the resolved scenario: the dataset, the
/// server's test images, each client's images, and the model's specification.
public struct FederationSetup: Sendable {
  public let scenario: Scenario
  public let dataset: ImageDataset
  public let spec: ModelSpec
  public let testIndices: [Int]
  public let clientIndices: [[Int]]

  public init(_ scenario: Scenario) throws {
    let s = scenario.resolved()
    self.scenario = s
    let d = s.dataset!
    var data =
      d.path == "shapes"
      ? ImageDataset.shapes(count: d.count ?? 200, seed: s.seed!)
      : d.path!.lowercased().hasSuffix(".png") ? try ImageDataset.picture(d.path!) : try ImageDataset.load(d.path!)
    if let n = d.count, n < data.count { data = data.subset(Array(0..<n)) }
    dataset = data
    let m = s.model!
    spec = ModelSpec(
      name: m.name!, channels: data.channels, imageSize: data.height, classes: m.classes ?? data.classes,
      activation: m.activation)
    var order = Array(0..<data.count)
    var generator = SeededGenerator(seed: s.seed! &+ 1)
    order.shuffle(using: &generator)
    let testCount = Int((Double(data.count) * d.testFraction!).rounded())
    testIndices = Array(order.prefix(testCount)).sorted()
    let train = Array(order.dropFirst(testCount)).sorted()
    let partition: Partition =
      switch d.partition! {
      case "dirichlet": .dirichlet(alpha: d.alpha!)
      case "shards": .shards(perClient: 2)
      default: .iid
      }
    let parts = partition.assign(labels: train.map { data.labels[$0] }, clients: s.federation!.clients!, seed: s.seed! &+ 2)
    clientIndices = parts.map { $0.map { train[$0] } }
  }

  /// The initial global model.
  public func initialModel() throws -> AnyModel {
    var generator = SeededGenerator(seed: scenario.seed!)
    return try ModelZoo.make(spec, generator: &generator)
  }
}
