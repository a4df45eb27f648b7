import Foundation
import Tensors

/// The folder of one run (one point of a sweep): the resolved scenario, the adversary's brief,
/// the endpoints the server bound, one events log per process (JSON lines), the server's round
/// records, the ground truth the clients kept, the adversary's reconstructions, and the summary.
/// Every file is written atomically, so a file present is a file complete.
public struct RunFolder: Sendable, Equatable {
  public var path: String
  public init(_ path: String) { self.path = path }

  public var scenario: String { path + "/scenario.json" }
  /// What the adversary is told: the model, the attack, the tap (never the dataset).
  public var brief: String { path + "/adversary.json" }
  public var endpoints: String { path + "/endpoints.json" }
  /// The server's record of every round.
  public var rounds: String { path + "/rounds.json" }
  /// The server's split of the dataset: its test images and each client's (dataset indices).
  public var partition: String { path + "/partition.json" }
  /// The global model before the first round, as `param.<name>` tensors.
  public var initialModel: String { path + "/initial-model.safetensors" }
  public var summary: String { path + "/summary.json" }
  public func events(_ role: String) -> String { path + "/events/\(role).jsonl" }
  public func stderr(_ process: String) -> String { path + "/events/\(process).stderr" }
  public func truth(round: Int, client: Int) -> String { path + "/truth/r\(round)-c\(client).safetensors" }
  public func reconstruction(round: Int, client: Int) -> String {
    path + "/reconstructions/r\(round)-c\(client).safetensors"
  }
  public var reconstructions: String { path + "/reconstructions" }
  public func timeline(round: Int, client: Int) -> String { path + "/timelines/r\(round)-c\(client).png" }
  /// One attacked update's truth above its reconstruction (the report captions it).
  public func picture(round: Int, client: Int) -> String { path + "/pictures/r\(round)-c\(client).png" }
  /// One attack's per-iteration history: gradient distance, and at each snapshot the PSNR of the
  /// batch's worst image and the mean over its images.
  public func history(round: Int, client: Int) -> String { path + "/history/r\(round)-c\(client).csv" }
  /// The adversary's latest snapshot of an attack under way (for live views).
  public func live(round: Int, client: Int) -> String { path + "/live/r\(round)-c\(client).safetensors" }

  /// The folder of point `k`'s repeat `r` in a run's top folder (`points/p<k>-r<r>`).
  public func point(_ k: Int, repeat r: Int) -> RunFolder { RunFolder(path + "/points/p\(k)-r\(r)") }

  /// Removes the folders `create()` made that the point left empty (no attack: no truth,
  /// reconstructions, timelines or live snapshots), once its processes are done.
  public func removeEmptyFolders() {
    for sub in ["/truth", "/reconstructions", "/timelines", "/live"] {
      if let inside = try? FileManager.default.contentsOfDirectory(atPath: path + sub), inside.isEmpty {
        try? FileManager.default.removeItem(atPath: path + sub)
      }
    }
  }

  public func create() throws(RunFolderError) {
    for sub in ["", "/events", "/truth", "/reconstructions", "/timelines", "/live"] {
      do { try FileManager.default.createDirectory(atPath: path + sub, withIntermediateDirectories: true) } catch {
        throw .write(path: path + sub, reason: FileOutput.reason(error))
      }
    }
  }

  public func write(_ data: Data, to file: String) throws(RunFolderError) {
    do { try FileOutput.write(data, to: file) } catch { throw .write(path: file, reason: error.reason) }
  }

  public func writeJSON<T: Encodable>(_ value: T, to file: String) throws(RunFolderError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let data: Data
    do { data = try encoder.encode(value) } catch { throw .write(path: file, reason: "\(error)") }
    try write(data + Data("\n".utf8), to: file)
  }

  public func readJSON<T: Decodable>(_ type: T.Type, from file: String) throws(RunFolderError) -> T {
    let data: Data
    do { data = Data(try FileInput.bytes(file)) } catch { throw .unreadable(path: file, reason: error.reason) }
    do { return try JSONDecoder().decode(T.self, from: data) } catch {
      throw .unreadable(path: file, reason: "not a valid \(T.self): \(DecodingErrorText.describe(error))")
    }
  }

  /// The point's resolved scenario, validated again.
  public func readScenario() throws(RunFolderError) -> Scenario {
    let s = try readJSON(Scenario.self, from: scenario)
    do { return try s.validated(source: scenario) } catch { throw .invalid(error) }
  }

  public func readEndpoints() throws(RunFolderError) -> Endpoints { try readJSON(Endpoints.self, from: endpoints) }

  /// `given`, or else the endpoint the server wrote here (`pick` chooses clients or tap).
  public func endpoint(_ given: String?, _ pick: (Endpoints) -> String) throws(RunFolderError) -> String {
    if let given { return given }
    return pick(try readEndpoints())
  }
}

/// Where the server listens: clients connect to `clients` (ROUTER), the adversary to `tap` (PUB).
public struct Endpoints: Codable, Sendable, Equatable {
  public var clients: String
  public var tap: String
  public init(clients: String, tap: String) { (self.clients, self.tap) = (clients, tap) }
}

/// A run-folder file that cannot be read or written, naming it.
public enum RunFolderError: Error, CustomStringConvertible, Equatable {
  case unreadable(path: String, reason: String)
  case write(path: String, reason: String)
  case invalid(ScenarioError)

  public var description: String {
    switch self {
    case .unreadable(let p, let r): "\(p): \(r)"
    case .write(let p, let r): "cannot write \(p): \(r)"
    case .invalid(let e): e.description
    }
  }
}
