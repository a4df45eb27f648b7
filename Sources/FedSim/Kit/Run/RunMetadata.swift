import FedSimCore
import Foundation

/// FedSim's own version, and the commit of the source tree a binary was built from when it
/// runs from that tree's `.build` (nil elsewhere).
public enum FedSimVersion {
  public static let version = "0.15.0"

  /// "0.15.0 (commit 1a2b3c4)", "0.15.0 (commit 1a2b3c4, modified)" or "0.15.0".
  public static var description: String { version + (commit.map { " (commit \($0))" } ?? "") }

  public static let commit: String? = {
    let binary = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).resolvingSymlinksInPath().path
    guard let range = binary.range(of: "/.build") else { return nil }
    let root = String(binary[..<range.lowerBound])
    guard let head = git(root, ["rev-parse", "--short", "HEAD"]), !head.isEmpty else { return nil }
    let dirty = !(git(root, ["status", "--porcelain", "--untracked-files=no"]) ?? "").isEmpty
    return head + (dirty ? ", modified" : "")
  }()

  private static func git(_ root: String, _ arguments: [String]) -> String? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["git", "-C", root] + arguments
    let out = Pipe()
    (p.standardOutput, p.standardError, p.standardInput) = (out, FileHandle.nullDevice, FileHandle.nullDevice)
    guard (try? p.run()) != nil else { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }
}

/// `run.json`: when, where and with what a run ran — one session per `fedsim run` (a resume
/// adds one) — so a table in a paper can say which FedSim, which machine and how long.
public struct RunMetadata: Codable, Sendable {
  public struct Session: Codable, Sendable {
    public var started: String
    public var finished: String?
    public var wallSeconds: Double?
    public var executor: String
    public var fedsim: String
    public var host: String
    public var cores: Int
    public var cpu: String
    public var system: String
    public var memoryGiB: Double

    enum CodingKeys: String, CodingKey {
      case started, finished, executor, fedsim, host, cores, cpu, system
      case wallSeconds = "wall_s", memoryGiB = "memory_gib"
    }
  }

  public var sessions: [Session]

  static func path(_ folder: RunFolder) -> String { folder.path + "/run.json" }

  public static func read(_ folder: RunFolder) -> RunMetadata? { try? folder.readJSON(RunMetadata.self, from: path(folder)) }

  /// Records a session's start (before any point runs).
  static func begin(_ folder: RunFolder, executor: String) -> Date {
    let now = Date()
    var meta = read(folder) ?? RunMetadata(sessions: [])
    meta.sessions.append(Session(
      started: ISO8601DateFormatter().string(from: now), executor: executor, fedsim: FedSimVersion.description,
      host: ProcessInfo.processInfo.hostName, cores: ProcessInfo.processInfo.activeProcessorCount, cpu: CPUDescription.current,
      system: ProcessInfo.processInfo.operatingSystemVersionString,
      memoryGiB: (Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30) * 10).rounded() / 10))
    try? folder.writeJSON(meta, to: path(folder))
    return now
  }

  /// Records the end of the session begun at `start`, however it ended.
  static func end(_ folder: RunFolder, started start: Date) {
    guard var meta = read(folder), !meta.sessions.isEmpty else { return }
    let now = Date()
    meta.sessions[meta.sessions.count - 1].finished = ISO8601DateFormatter().string(from: now)
    meta.sessions[meta.sessions.count - 1].wallSeconds = (now.timeIntervalSince(start) * 10).rounded() / 10
    try? folder.writeJSON(meta, to: path(folder))
  }

  /// "2026-12-02T08:30:00Z, 1 min 12 s, FedSim 0.15.0 (commit 1a2b3c4), on vm: 2 × AMD EPYC (family 25,
  /// model 17, AVX-512), 23.5 GiB".
  public var line: String {
    sessions.map { s in
      let wall = s.wallSeconds.map { Self.duration($0) } ?? "still running or stopped"
      return "\(s.started), \(wall), FedSim \(s.fedsim), \(s.executor), on \(s.host): \(s.cores) × \(s.cpu), \(s.memoryGiB) GiB, \(s.system)"
    }.joined(separator: "; resumed ")
  }

  static func duration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return s >= 3600 ? "\(s / 3600) h \(s % 3600 / 60) min" : s >= 60 ? "\(s / 60) min \(s % 60) s" : String(format: "%.1f s", seconds)
  }
}
