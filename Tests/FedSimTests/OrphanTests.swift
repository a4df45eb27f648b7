import FedSimCore
import FedSimKit
import Foundation
import TestSupport
import Testing

/// Real `fedsim run` processes killed with SIGKILL: no child outlives the launcher, and a dead
/// server, client or adversary leaves the point's summary and a failed run that names it.
@Suite("No orphans, no lost results: kill -9 of each process", .serialized)
struct OrphanTests {
  static let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path

  /// Two clients training for two rounds while the adversary attacks round 1 at length.
  static let scenario = """
    name: kill
    dataset: {path: shapes, count: 40}
    federation: {clients: 2, rounds: 2, algorithm: fedavg, epochs: 10, local_batch: 4, deadline: 4, quorum: 1}
    attack: {method: idlg, iterations: ITERATIONS}
    """

  struct Run {
    let process: Process
    let out: String
    let stderr: String
    var lockPath: String { out + "/lock.json" }

    /// The pids in the lock once it holds `count` (launcher, server, clients, adversary).
    func pids(count: Int, within seconds: Double = 30) throws -> [Int32] {
      let end = Date().addingTimeInterval(seconds)
      while Date() < end {
        if let data = FileManager.default.contents(atPath: lockPath),
          let pids = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["pids"] as? [Int], pids.count >= count
        {
          return pids.map { Int32($0) }
        }
        Thread.sleep(forTimeInterval: 0.05)
      }
      throw FederationError.failed("the lock never held \(count) pids")
    }
  }

  static func start(iterations: Int) throws -> Run {
    let dir = TemporaryPath.make("fedsim-kill")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let yaml = dir + "/kill.yaml"
    try scenario.replacingOccurrences(of: "ITERATIONS", with: "\(iterations)").write(toFile: yaml, atomically: true, encoding: .utf8)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binaries + "/fedsim")
    p.arguments = ["run", yaml, "--out", dir + "/run"]
    p.environment = ProcessInfo.processInfo.environment.merging(["OPENBLAS_NUM_THREADS": "1"]) { $1 }
    _ = FileManager.default.createFile(atPath: dir + "/stderr.txt", contents: nil)
    p.standardError = FileHandle(forWritingAtPath: dir + "/stderr.txt")
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    return Run(process: p, out: dir + "/run", stderr: dir + "/stderr.txt")
  }

  static func waitAllDead(_ pids: [Int32], within seconds: Double) -> [Int32] {
    let end = Date().addingTimeInterval(seconds)
    var alive = pids.filter(RunLock.isFedSimProcess)
    while !alive.isEmpty && Date() < end {
      Thread.sleep(forTimeInterval: 0.05)
      alive = alive.filter(RunLock.isFedSimProcess)
    }
    return alive
  }

  @Test("kill -9 of the launcher: every child stops within 5 s, and --resume then takes the folder")
  func launcherKilled() async throws {
    let (alive, out) = try await onThread { () -> ([Int32], String) in
      let run = try Self.start(iterations: 1_000_000)
      let pids = try run.pids(count: 5)
      #expect(pids.allSatisfy(RunLock.isFedSimProcess), "every child runs before the kill")
      #expect(throws: FederationError.self) { try RunPlan(resuming: RunFolder(run.out), binaries: Self.binaries) }
      kill(pids[0], SIGKILL)
      run.process.waitUntilExit()
      return (Self.waitAllDead(Array(pids.dropFirst()), within: 5), run.out)
    }
    #expect(alive.isEmpty, "orphans: \(alive)")
    // No process of the killed run lives, so the lock no longer holds the folder.
    _ = try RunPlan(resuming: RunFolder(out), binaries: Self.binaries)
  }

  @Test("kill -9 of one child: the run fails naming it, its summary written", arguments: [1, 3, 4])
  func childKilled(victim: Int) async throws {
    let names = [1: "fed-server", 3: "fed-client-1", 4: "fed-adversary"]
    let (status, stderr, out, alive) = try await onThread { () -> (Int32, String, String, [Int32]) in
      let run = try Self.start(iterations: victim == 4 ? 1_000_000 : 2)
      let pids = try run.pids(count: 5)
      Thread.sleep(forTimeInterval: 0.5)
      kill(pids[victim], SIGKILL)
      run.process.waitUntilExit()
      let text = (try? String(contentsOfFile: run.stderr, encoding: .utf8)) ?? ""
      return (run.process.terminationStatus, text, run.out, Self.waitAllDead(pids, within: 5))
    }
    let name = try #require(names[victim])
    #expect(status != 0)
    #expect(stderr.contains("\(name) failed (killed by signal 9)"), "\(stderr)")
    #expect(alive.isEmpty, "orphans: \(alive)")
    let point = RunFolder(out + "/points/p0-r0")
    let summary = try point.readJSON(RunSummary.self, from: point.summary)
    #expect(summary.problems.contains { $0.contains(name) })
    #expect(FileManager.default.fileExists(atPath: out + "/summary.csv"))
    #expect(!FileManager.default.fileExists(atPath: out + "/lock.json"))
  }
}
