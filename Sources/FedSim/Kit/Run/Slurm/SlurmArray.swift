import FedSimCore
import Foundation

/// One submitted job array: its Slurm id and the run's tasks it holds (array index `i` is task
/// `base + i`). `slurm/jobs.json` keeps every array of a run, so `--resume` after a killed
/// launcher follows the tasks still queued instead of submitting them twice.
struct SlurmArray: Codable, Sendable, Equatable {
  var job: String
  var base: Int
  var tasks: [Int]

  /// Slurm's default MaxArraySize is 1001: indices 0 to 1000.
  static let largestIndex = 1000

  static func script(_ folder: RunFolder) -> String { folder.path + "/slurm/task.sh" }
  static func record(_ folder: RunFolder) -> String { folder.path + "/slurm/jobs.json" }
  static func log(_ folder: RunFolder, job: String, index: Int) -> String { folder.path + "/slurm/\(job)_\(index).out" }

  /// The batch script every array task runs: one task of the run, with the options' CPUs as
  /// its BLAS threads. `$1` is the array's base.
  static func scriptText(fedsim: String, folder: RunFolder) -> String {
    """
    #!/bin/bash
    # Written by `fedsim run --executor slurm`. Array task SLURM_ARRAY_TASK_ID runs task
    # (SLURM_ARRAY_TASK_ID + $1) of the run in this folder: one point's repeat, with its own
    # server, clients and adversary, into points/. The launcher collects it.
    export OPENBLAS_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"
    exec \(SlurmText.quoted(fedsim)) run-task \(SlurmText.quoted(folder.path)) "$((SLURM_ARRAY_TASK_ID + $1))"

    """
  }

  /// The `sbatch` arguments of the array holding `tasks` (all within `largestIndex` of `base`).
  static func sbatchArguments(
    _ options: SlurmOptions, name: String, folder: RunFolder, workingDirectory: String, base: Int, tasks: [Int]
  ) -> [String] {
    var a = ["--parsable", "--job-name=fedsim-\(name)", "--chdir=\(workingDirectory)"]
    a.append("--array=" + SlurmText.arrayList(tasks.map { $0 - base }) + (options.maxRunning.map { "%\($0)" } ?? ""))
    a.append("--output=\(folder.path)/slurm/%A_%a.out")
    a.append("--cpus-per-task=\(options.cpusPerTask ?? 1)")
    if let p = options.partition { a.append("--partition=\(p)") }
    if let t = options.time { a.append("--time=\(t)") }
    if let m = options.memory { a.append("--mem=\(m)") }
    if let n = options.nodes { a.append("--nodes=\(n)") }
    a += options.sbatchArguments ?? []
    a += [script(folder), "\(base)"]
    return a
  }

  /// `tasks` cut into arrays whose indices fit under `largestIndex`; below it, an array index
  /// is the task's own number.
  static func chunks(_ tasks: [Int]) -> [(base: Int, tasks: [Int])] {
    var out: [(base: Int, tasks: [Int])] = []
    for t in tasks.sorted() {
      let base = t / largestIndex * largestIndex
      if let last = out.last, last.base == base { out[out.count - 1].tasks.append(t) } else { out.append((base, [t])) }
    }
    return out
  }

  /// The options the run was first submitted with (`slurm/options.json`), which `--resume`
  /// submits with again unless told otherwise.
  static func options(_ folder: RunFolder) -> String { folder.path + "/slurm/options.json" }

  /// The tasks of `folder`'s arrays that Slurm still holds pending or running, by job.
  static func queued(in folder: RunFolder) throws(FederationError) -> [SlurmArray] {
    guard let earlier = try? folder.readJSON([SlurmArray].self, from: record(folder)) else { return [] }
    var live: [SlurmArray] = []
    for a in earlier {
      guard let queue = try SlurmQueue.read(a.job) else { continue }
      let tasks = a.tasks.filter { t in queue[t - a.base].map { !$0.isTerminal } ?? false }
      if !tasks.isEmpty { live.append(SlurmArray(job: a.job, base: a.base, tasks: tasks)) }
    }
    return live
  }
}

extension SlurmArray {
  /// `queued(in:)` for a run that ever went to Slurm; nothing (and no squeue) otherwise.
  static func queuedIfSlurm(in folder: RunFolder) throws(FederationError) -> [SlurmArray] {
    FileManager.default.fileExists(atPath: record(folder)) ? try queued(in: folder) : []
  }
}

/// `squeue` on one job.
enum SlurmQueue {
  /// The queue's view of `job`'s tasks by array index, or nil once Slurm has forgotten the job.
  static func read(_ job: String) throws(FederationError) -> [Int: SlurmText.TaskState]? {
    let out = try SlurmCommand.run("squeue", ["-h", "-r", "-j", job, "-t", "all", "-o", SlurmText.queueFormat])
    if out.succeeded { return SlurmText.queue(out.out) }
    if out.complaint.contains("Invalid job id") { return nil }
    throw .failed("squeue cannot read the queue: \(out.complaint)")
  }
}
