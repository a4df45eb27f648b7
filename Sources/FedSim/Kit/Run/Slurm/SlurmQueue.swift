import FedSimCore
import Foundation

/// What Slurm's commands say, parsed: `sbatch --parsable`, `squeue` and `scontrol -o show job`.
/// Pure functions, so each is tested on the text a real Slurm prints.
enum SlurmText {
  /// One array task as the queue shows it.
  struct TaskState: Equatable, Sendable {
    var state: String
    var reason: String
    var node: String
    var exitCode: String?
    var log: String?

    /// States a task never leaves.
    static let terminal: Set<String> = [
      "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE",
      "REVOKED", "SPECIAL_EXIT",
    ]
    var isTerminal: Bool { Self.terminal.contains(state) }

    /// Pending reasons that waiting never clears: the request exceeds what the partition,
    /// account or QOS allows, or names what does not exist.
    static let hopeless: Set<String> = [
      "PartitionNodeLimit", "PartitionTimeLimit", "PartitionConfig", "PartitionDown", "PartitionInactive", "BadConstraints",
      "InvalidAccount", "InvalidQOS", "QOSMaxCpuPerJobLimit", "QOSMaxNodePerJobLimit", "QOSMaxWallDurationPerJobLimit",
      "AssocMaxCpuPerJobLimit", "AssocMaxNodePerJobLimit", "AssocMaxWallDurationPerJobLimit", "DependencyNeverSatisfied",
    ]
    /// Whether the task waits for something that will not come.
    var isStuck: Bool { state == "PENDING" && Self.hopeless.contains(reason) }
  }

  /// The job id of `sbatch --parsable` ("12" or "12;cluster").
  static func jobID(parsable text: String) -> String? {
    let id = text.split(whereSeparator: \.isNewline).last.map { String($0.split(separator: ";").first ?? "") } ?? ""
    return !id.isEmpty && id.allSatisfy(\.isNumber) ? id : nil
  }

  /// The format `squeue` is asked for: array index, state, reason, node list.
  static let queueFormat = "%K|%T|%r|%N"

  /// `squeue -h -r -o queueFormat` lines by array index (a pending range such as "3-7%2" is
  /// every index in it).
  static func queue(_ text: String) -> [Int: TaskState] {
    var tasks: [Int: TaskState] = [:]
    for line in text.split(whereSeparator: \.isNewline) {
      let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
      guard f.count >= 4 else { continue }
      let task = TaskState(state: f[1].split(separator: " ").first.map(String.init) ?? f[1], reason: f[2], node: f[3])
      for i in indices(f[0]) { tasks[i] = task }
    }
    return tasks
  }

  /// `scontrol -o show job J`: one record per array task (pending ones as a range).
  static func records(_ text: String) -> [Int: TaskState] {
    var tasks: [Int: TaskState] = [:]
    for line in text.split(whereSeparator: \.isNewline) {
      func value(_ key: String) -> String? {
        guard let r = line.firstRange(of: " " + key + "=") ?? (line.hasPrefix(key + "=") ? line.range(of: key + "=") : nil) else { return nil }
        let rest = line[r.upperBound...]
        return String(rest.prefix { $0 != " " })
      }
      guard let ids = value("ArrayTaskId"), let state = value("JobState") else { continue }
      let task = TaskState(
        state: state, reason: value("Reason") ?? "None", node: value("NodeList") ?? "", exitCode: value("ExitCode"), log: value("StdOut"))
      for i in indices(ids) { tasks[i] = task }
    }
    return tasks
  }

  /// The indices of an array expression: "4", "0-3", "1,4-5", "3-7%2" (the throttle ignored).
  static func indices(_ text: String) -> [Int] {
    let body = text.split(separator: "%").first.map(String.init) ?? ""
    var all: [Int] = []
    for part in body.split(separator: ",") {
      let ends = part.split(separator: "-").compactMap { Int($0) }
      if ends.count == 1 { all.append(ends[0]) } else if ends.count == 2, ends[0] <= ends[1], ends[1] - ends[0] < 1_000_000 {
        all += Array(ends[0]...ends[1])
      }
    }
    return all
  }

  /// The shortest `--array` list of `indices` ("0-2,5,7-8").
  static func arrayList(_ indices: [Int]) -> String {
    var parts: [String] = []
    var start: Int?
    var last = Int.min
    for i in indices.sorted() {
      if start != nil, i == last + 1 {
        last = i
        continue
      }
      if let s = start { parts.append(s == last ? "\(s)" : "\(s)-\(last)") }
      (start, last) = (i, i)
    }
    if let s = start { parts.append(s == last ? "\(s)" : "\(s)-\(last)") }
    return parts.joined(separator: ",")
  }

  /// `text` as one shell word.
  static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
