import FedSimCore
import Foundation

/// How a run goes to Slurm (`executor: slurm`, the `slurm:` section, or `fedsim run --executor
/// slurm` with its options): each of the points × repeats is one task of a job array.
public struct SlurmOptions: Codable, Sendable, Equatable {
  /// `--partition`; the cluster's default when absent.
  public var partition: String?
  /// `--time`, the limit of one task (minutes, `MM:SS`, `HH:MM:SS`, `D-HH[:MM[:SS]]`).
  public var time: String?
  /// `--cpus-per-task`; also the task's BLAS threads. Default 1.
  public var cpusPerTask: Int?
  /// `--mem`, per task (`500M`, `2G`).
  public var memory: String?
  /// The array's `%N`: at most this many tasks running at once.
  public var maxRunning: Int?
  /// Further `sbatch` arguments, passed as they are (`--qos=low`, `--account=lab`).
  public var sbatchArguments: [String]?
  /// Seconds between two looks at the queue. Default 2.
  public var poll: Double?
  /// `--nodes`, per task. Default 1.
  public var nodes: Int?
  /// Start each client as a job step on the task's other nodes (`NodePlacement`), the server
  /// binding the first node's address: one federation across hosts.
  public var spreadClients: Bool?

  public init() {}

  enum CodingKeys: String, CodingKey {
    case partition, time, memory, poll, nodes
    case cpusPerTask = "cpus_per_task", maxRunning = "max_running", sbatchArguments = "sbatch_args", spreadClients = "spread_clients"
  }

  static let keys = ["partition", "time", "cpus_per_task", "memory", "max_running", "sbatch_args", "poll", "nodes", "spread_clients"]

  /// `other`'s settings where it has them, this one's elsewhere (the command line over the file).
  public func overridden(by other: SlurmOptions) -> SlurmOptions {
    var o = self
    o.partition = other.partition ?? partition
    o.time = other.time ?? time
    o.cpusPerTask = other.cpusPerTask ?? cpusPerTask
    o.memory = other.memory ?? memory
    o.maxRunning = other.maxRunning ?? maxRunning
    let extra = (sbatchArguments ?? []) + (other.sbatchArguments ?? [])
    o.sbatchArguments = extra.isEmpty ? nil : extra
    o.poll = other.poll ?? poll
    o.nodes = other.nodes ?? nodes
    o.spreadClients = other.spreadClients ?? spreadClients
    return o
  }

  /// The arguments FedSim sets itself, which `sbatch_args` may not repeat.
  static let ownArguments = ["--array", "-a", "--output", "-o", "--error", "-e", "--parsable", "--wrap", "--chdir", "-D", "--job-name", "-J", "--nodes", "-N"]

  /// The `sbatch` options a scenario file may pass: ones that choose where and under whose
  /// budget tasks run. Anything else (`--export`, `--container`, `--bb`, …) could make a shared
  /// scenario run code of its author's on the reader's cluster, so it is taken from the
  /// command line only (`--sbatch-arg`).
  static let fileArguments = [
    "--qos", "--account", "--constraint", "--gres", "--gpus", "--exclusive", "--reservation", "--nice", "--comment",
    "--exclude", "--nodelist", "--mail-type", "--mail-user", "--requeue", "--no-requeue", "--mem-per-cpu", "--tmp", "--hint",
  ]

  /// Every value checked, naming the key (`where` says which file or option it came from);
  /// `fromFile` holds `sbatch_args` to `fileArguments`.
  public func validated(where source: String, fromFile: Bool = false) throws(ScenarioError) -> SlurmOptions {
    func bad(_ key: String, _ reason: String) -> ScenarioError { .invalid(source: source, key: "slurm." + key, reason: reason) }
    if let p = partition, !p.allSatisfy({ $0.isLetter || $0.isNumber || "_-.,".contains($0) }) || p.isEmpty || p.count > 128 {
      throw bad("partition", "must be a partition name (letters, digits, '_', '-', '.', ',')")
    }
    if let t = time, t.wholeMatch(of: /(\d{1,5}|\d{1,5}:\d{2}|\d{1,5}:\d{2}:\d{2}|\d{1,4}-\d{1,2}(:\d{2}){0,2})/) == nil {
      throw bad("time", "must be minutes, MM:SS, HH:MM:SS or D-HH[:MM[:SS]], as sbatch --time takes it")
    }
    if let c = cpusPerTask, !(1...1024).contains(c) { throw bad("cpus_per_task", "must be 1 to 1024") }
    if let m = memory, m.wholeMatch(of: /\d{1,9}[KMGT]?/) == nil { throw bad("memory", "must be a size such as 500M or 2G") }
    if let m = maxRunning, !(1...100_000).contains(m) { throw bad("max_running", "must be 1 to 100000") }
    if let p = poll, !(p >= 0.1 && p <= 600) { throw bad("poll", "must be 0.1 to 600 seconds") }
    if let n = nodes, !(1...10_000).contains(n) { throw bad("nodes", "must be 1 to 10000") }
    if (nodes ?? 1) > 1 && spreadClients != true { throw bad("nodes", "more than one node per task needs spread_clients: true (else the others sit idle)") }
    for a in sbatchArguments ?? [] {
      let name = String(a.split(separator: "=", maxSplits: 1).first ?? "")
      if Self.ownArguments.contains(name) || Self.ownArguments.contains(where: { $0.count == 2 && a.hasPrefix($0) && !a.hasPrefix("--") }) {
        throw bad("sbatch_args", "'\(a)': FedSim sets \(name) itself")
      }
      if a.isEmpty || a.contains("\n") || a.contains("\0") { throw bad("sbatch_args", "an argument is empty or holds a line break") }
      if fromFile && !Self.fileArguments.contains(name) {
        throw bad(
          "sbatch_args",
          "'\(a)': a scenario file may pass only \(Self.fileArguments.joined(separator: ", ")) (as --name=value); give others on the command line (--sbatch-arg)")
      }
    }
    return self
  }
}
