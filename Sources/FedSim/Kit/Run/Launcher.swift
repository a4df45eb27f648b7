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
  /// Where the clients run, in a Slurm task that spreads them over its nodes (nil: here).
  public let placement: NodePlacement?
  let supervisor: Supervisor

  public init(
    scenario given: Scenario, folder: RunFolder, binaries: String, lock: RunLock? = nil, placement: NodePlacement? = nil
  ) throws(FederationError) {
    var scenario = given
    if let placement {
      guard scenario.federation.security == .curve else {
        throw .failed("slurm.spread_clients puts clients on other hosts: the federation needs security: curve")
      }
      scenario.federation.host = placement.serverAddress
    }
    (self.scenario, self.folder, self.placement) = (scenario, folder, placement)
    try Self.prepare(scenario, in: folder)
    supervisor = try Supervisor(folder: folder, binaries: binaries, lock: lock)
  }

  /// Writes what every process of the point reads: the resolved scenario, the adversary's brief
  /// and, under CURVE, a key pair per process (also for processes started by hand: `fedsim prepare`).
  public static func prepare(_ scenario: Scenario, in folder: RunFolder) throws(FederationError) {
    do {
      try folder.create()
      try folder.writeJSON(scenario, to: folder.scenario)
      if let brief = AdversaryBrief(scenario) { try folder.writeJSON(brief, to: folder.brief) }
    } catch { throw .folder(error) }
    if scenario.federation.security == .curve { try CurveKeyring.make(in: folder, clients: scenario.federation.clients) }
  }

  /// Scores a point whose processes have finished (wherever they ran) and writes its summary.
  public static func score(_ folder: RunFolder) throws(FederationError) -> RunSummary {
    let scenario: Scenario
    do { scenario = try folder.readScenario() } catch { throw .folder(error) }
    var summary = try Scoring(folder: folder, scenario: scenario).summary()
    if let why = summary.noRoundAggregated { summary.problems.append(why) }
    do { try summary.write(to: folder) } catch { throw .folder(error) }
    return summary
  }

  /// Runs the point's processes to the end and returns its summary (also written to the folder).
  /// Whatever fails, the summary of what was made is written first, with every problem named,
  /// and then the first problem is thrown.
  public func run(progress: (String) -> Void = { _ in }) throws(FederationError) -> RunSummary {
    defer { supervisor.stopAll() }
    var problems: [String] = []
    do { try runProcesses(progress: progress) } catch {
      problems.append(error.description)
      supervisor.stopAll()
    }
    problems += finalExits()
    var summary = try Scoring(folder: folder, scenario: scenario).summary()
    summary.problems = problems + summary.problems
    if problems.isEmpty, let why = summary.noRoundAggregated { summary.problems.append(why) }
    do { try summary.write(to: folder) } catch { throw .folder(error) }
    folder.removeEmptyFolders()
    if let first = summary.problems.first {
      throw .failed(first + (summary.problems.count > 1 ? " (and \(summary.problems.count - 1) more problems)" : "")
        + "; the summary of what was made is in \(folder.summary)")
    }
    return summary
  }

  /// Starts the server, the clients and the adversary, and waits for the server to finish.
  private func runProcesses(progress: (String) -> Void) throws(FederationError) {
    let f = scenario.federation
    if f.host == "0.0.0.0" || f.host == "::" {
      progress("warning: federation.host \(f.host) lets every network this machine is on reach the server (CURVE still admits only this run's keys)")
    }
    let endpoints = try startServer()
    progress("server listening; starting \(f.clients) clients" + (scenario.attack == nil ? "" : " and the adversary"))
    for c in 0..<f.clients {
      if let placement {
        let node = placement.node(ofClient: c)
        try supervisor.start(
          "fed-client-\(c)", binary: "fed-client", [folder.path, "\(c)", endpoints.clients], via: ["srun"] + placement.srunArguments(node: node))
      } else {
        try supervisor.start("fed-client-\(c)", binary: "fed-client", [folder.path, "\(c)"])
      }
    }
    if scenario.attack != nil { try supervisor.start("fed-adversary", binary: "fed-adversary", [folder.path]) }
    let seconds = f.deadline * Double(f.rounds + 2) + 60
    guard supervisor.wait(until: Date().addingTimeInterval(seconds), for: { supervisor.exit(of: "fed-server") != nil }) else {
      throw .failed("fed-server did not finish within \(Int(seconds)) s")
    }
    try expectSuccess("fed-server")
    progress("rounds finished")
    if scenario.attack != nil {
      _ = supervisor.wait(until: Date().addingTimeInterval(24 * 3600)) { supervisor.exit(of: "fed-adversary") != nil }
    }
  }

  /// Every other child that failed, in its own words. Clients get a few seconds to take the
  /// server's `done` and leave; one still busy after that (training an update for a round that
  /// closed without it) is stopped, which is no failure of its own.
  private func finalExits() -> [String] {
    let clients = (0..<scenario.federation.clients).map { "fed-client-\($0)" }
    _ = supervisor.wait(until: Date().addingTimeInterval(10)) { clients.allSatisfy { supervisor.exit(of: $0) != nil } }
    let busy = clients.filter { supervisor.exit(of: $0) == nil }
    if !busy.isEmpty {
      supervisor.log.log("stopping", ["processes": busy, "reason": "still running after the server finished"])
      supervisor.stop(busy)
    }
    let names = clients.filter { !busy.contains($0) } + (scenario.attack == nil ? [] : ["fed-adversary"])
    return names.compactMap { name in
      do throws(FederationError) { try expectSuccess(name, running: "was still running after the server finished") } catch {
        return error.description
      }
      return nil
    }
  }

  /// Starts the server and waits for its first line (the endpoints), or its exit.
  private func startServer() throws(FederationError) -> Endpoints {
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
    return endpoints
  }

  /// Throws with the child's own last words when it exited badly (or, given `running`, when it
  /// has not exited).
  private func expectSuccess(_ name: String, running: String? = nil) throws(FederationError) {
    guard let exit = supervisor.exit(of: name) else {
      if let running { throw .failed("\(name) \(running); see \(folder.stderr(name))") }
      return
    }
    guard !exit.succeeded else { return }
    let why = supervisor.lastWords(name).map { ": \($0)" } ?? ""
    throw .failed("\(name) failed (\(exit.text))\(why); see \(folder.stderr(name))")
  }

  /// Stops every child of this point.
  public func stopAll() { supervisor.stopAll() }
}
