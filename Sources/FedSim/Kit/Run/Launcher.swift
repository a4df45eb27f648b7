import FedSimCore
import Synchronization
import Foundation

/// One point of a run: writes its resolved scenario and the adversary's brief, starts the
/// server, the clients and the adversary as separate processes under a `Supervisor`, waits for
/// them, and scores what the adversary made against what the clients kept. Any failure, and
/// `stopAll()`, stops every child.
public final class Launcher: Sendable {
  public let scenario: Scenario
  public let folder: RunFolder
  let supervisor: Supervisor

  public init(scenario: Scenario, folder: RunFolder, binaries: String) throws(FederationError) {
    (self.scenario, self.folder) = (scenario, folder)
    do {
      try folder.create()
      try folder.writeJSON(scenario, to: folder.scenario)
      if let brief = AdversaryBrief(scenario) { try folder.writeJSON(brief, to: folder.brief) }
    } catch { throw .folder(error) }
    supervisor = Supervisor(folder: folder, binaries: binaries)
  }

  /// Runs the point's processes to the end and returns its summary (also written to the folder).
  public func run(progress: (String) -> Void = { _ in }) throws(FederationError) -> RunSummary {
    defer { supervisor.stopAll() }
    try startServer()
    let f = scenario.federation
    progress("server listening; starting \(f.clients) clients" + (scenario.attack == nil ? "" : " and the adversary"))
    for c in 0..<f.clients { try supervisor.start("fed-client-\(c)", binary: "fed-client", [folder.path, "\(c)"]) }
    if scenario.attack != nil { try supervisor.start("fed-adversary", binary: "fed-adversary", [folder.path]) }
    let limit = Date().addingTimeInterval(f.deadline * Double(f.rounds + 2) + 60)
    guard supervisor.wait(until: limit, for: { supervisor.exit(of: "fed-server") != nil }) else {
      throw .failed("fed-server did not finish within \(Int(f.deadline * Double(f.rounds + 2) + 60)) s")
    }
    try expectSuccess("fed-server")
    progress("rounds finished")
    var problems: [String] = []
    if scenario.attack != nil {
      _ = supervisor.wait(until: Date().addingTimeInterval(24 * 3600)) { supervisor.exit(of: "fed-adversary") != nil }
      do { try expectSuccess("fed-adversary") } catch { problems.append(error.description) }
    }
    var summary = try Scoring(folder: folder, scenario: scenario).summary()
    summary.problems = problems
    do { try summary.write(to: folder) } catch { throw .folder(error) }
    if let first = problems.first { throw .failed(first + " (the summary of what was made is in \(folder.summary))") }
    return summary
  }

  /// Starts the server and waits for its first line (the endpoints), or its exit.
  private func startServer() throws(FederationError) {
    let pipe = Pipe()
    try supervisor.start("fed-server", binary: "fed-server", [folder.path], output: pipe)
    let line = Mutex<String?>(nil)
    let reader = Thread { [supervisor] in
      var bytes: [UInt8] = []
      while let chunk = try? pipe.fileHandleForReading.read(upToCount: 1), let b = chunk.first, b != 10 { bytes.append(b) }
      line.withLock { $0 = String(decoding: bytes, as: UTF8.self) }
      supervisor.poke()
    }
    reader.start()
    _ = supervisor.wait(until: Date().addingTimeInterval(60)) {
      line.withLock { $0 } != nil || supervisor.exit(of: "fed-server") != nil
    }
    guard let text = line.withLock({ $0 }), let endpoints = try? JSONDecoder().decode(Endpoints.self, from: Data(text.utf8)) else {
      try expectSuccess("fed-server")
      throw .failed("fed-server did not listen within 60 s")
    }
    supervisor.log.log("server_listening", ["clients": endpoints.clients, "tap": endpoints.tap])
  }

  /// Throws with the child's own last words when it exited badly (or has not exited).
  private func expectSuccess(_ name: String) throws(FederationError) {
    guard let exit = supervisor.exit(of: name) else { return }
    guard !exit.succeeded else { return }
    let why = supervisor.lastWords(name).map { ": \($0)" } ?? ""
    throw .failed("\(name) failed (\(exit.text))\(why); see \(folder.stderr(name))")
  }

  /// Stops every child of this point.
  public func stopAll() { supervisor.stopAll() }
}
