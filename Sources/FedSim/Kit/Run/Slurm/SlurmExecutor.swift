import FedSimCore
import Foundation
import Synchronization

/// Runs a run's unfinished tasks as Slurm job arrays and follows them to the end: submits
/// (`sbatch --array`), watches the queue (`squeue`), reads each finished task's state
/// (`scontrol`, which keeps it for MinJobAge) and hands its point's summary to the books as a
/// local run would. `cancel()` (Ctrl-C) cancels every array (`scancel`).
final class SlurmExecutor: Sendable {
  let options: SlurmOptions
  let book: RunBook
  let fedsim: String
  private let arrays = Mutex<[SlurmArray]>([])
  /// How long the queue may stay unreadable before the launcher gives up following.
  static let patience: Double = 300

  init(options: SlurmOptions, book: RunBook, fedsim: String) { (self.options, self.book, self.fedsim) = (options, book, fedsim) }

  var folder: RunFolder { book.folder }

  /// Submits what is missing, follows every task to its end and records each outcome.
  func run(
    progress: (String) -> Void, stopped: () -> Bool, started: (Int) -> Void = { _ in },
    record: (Int, Result<RunSummary, FederationError>) -> Void
  ) throws(FederationError) {
    let all = book.tasks.indices
    var pending: [Int: (job: String, index: Int)] = [:]
    for a in try adoptQueued() { for t in a.tasks { pending[t] = (a.job, t - a.base) } }
    if !pending.isEmpty { progress("  following \(pending.count) tasks still queued from before (job \(Set(pending.values.map(\.job)).sorted().joined(separator: ", ")))") }
    var missing: [Int] = []
    for t in all where pending[t] == nil {
      // Finished before, without a problem: kept, as --resume promises.
      if let done = book.summary(ofTask: t), done.problems.isEmpty { record(t, .success(done)) } else { missing.append(t) }
    }
    let kept = all.count - pending.count - missing.count
    if kept > 0 { progress("  \(kept) tasks finished before, kept") }
    for a in try submit(missing, progress: progress) { for t in a.tasks { pending[t] = (a.job, t - a.base) } }
    try follow(&pending, progress: progress, stopped: stopped, started: started, record: record)
  }

  /// Cancels every array of this run (Ctrl-C).
  func cancel() {
    for a in arrays.withLock({ $0 }) { _ = try? SlurmCommand.run("scancel", [a.job]) }
  }

  // MARK: submitting

  private func submit(_ tasks: [Int], progress: (String) -> Void) throws(FederationError) -> [SlurmArray] {
    guard !tasks.isEmpty else { return [] }
    do {
      try FileManager.default.createDirectory(atPath: folder.path + "/slurm", withIntermediateDirectories: true)
      try folder.write(Data(SlurmArray.scriptText(fedsim: fedsim, folder: folder).utf8), to: SlurmArray.script(folder))
      try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: SlurmArray.script(folder))
    } catch let e as RunFolderError { throw .folder(e) } catch {
      throw .folder(.write(path: SlurmArray.script(folder), reason: error.localizedDescription))
    }
    do { try folder.writeJSON(options, to: SlurmArray.options(folder)) } catch { throw .folder(error) }
    var submitted: [SlurmArray] = []
    for chunk in SlurmArray.chunks(tasks) {
      let arguments = SlurmArray.sbatchArguments(
        options, name: book.design.name, folder: folder, workingDirectory: FileManager.default.currentDirectoryPath,
        base: chunk.base, tasks: chunk.tasks)
      let out = try SlurmCommand.run("sbatch", arguments)
      guard out.succeeded, let job = SlurmText.jobID(parsable: out.out) else {
        cancel()
        throw .failed("sbatch refused the array: \(out.complaint) (sbatch \(arguments.joined(separator: " ")))")
      }
      let array = SlurmArray(job: job, base: chunk.base, tasks: chunk.tasks)
      arrays.withLock { $0.append(array) }
      submitted.append(array)
      try saveArrays()
      progress("  submitted job array \(job): \(chunk.tasks.count) tasks (--array=\(SlurmText.arrayList(chunk.tasks.map { $0 - chunk.base })))")
    }
    return submitted
  }

  /// Every array this run ever submitted (earlier launchers' too), for `--resume`.
  private func saveArrays() throws(FederationError) {
    let earlier = (try? folder.readJSON([SlurmArray].self, from: SlurmArray.record(folder))) ?? []
    let mine = arrays.withLock { $0 }
    let merged = earlier.filter { e in !mine.contains { $0.job == e.job } } + mine
    do { try folder.writeJSON(merged, to: SlurmArray.record(folder)) } catch { throw .folder(error) }
  }

  /// The tasks of earlier arrays still pending or running (a launcher killed while they ran).
  private func adoptQueued() throws(FederationError) -> [SlurmArray] {
    let adopted = try SlurmArray.queued(in: folder)
    arrays.withLock { $0 += adopted }
    return adopted
  }

  // MARK: following

  private func follow(
    _ pending: inout [Int: (job: String, index: Int)], progress: (String) -> Void, stopped: () -> Bool,
    started: (Int) -> Void, record: (Int, Result<RunSummary, FederationError>) -> Void
  ) throws(FederationError) {
    var running: Set<Int> = []
    var unreadableSince: Date?
    while !pending.isEmpty && !stopped() {
      Thread.sleep(forTimeInterval: options.poll ?? 2)
      for job in Set(pending.values.map(\.job)).sorted() {
        let queue: [Int: SlurmText.TaskState]?
        do { queue = try SlurmQueue.read(job) } catch {
          if Date().timeIntervalSince(unreadableSince ?? Date()) > Self.patience {
            throw .failed("\(error) for \(Int(Self.patience)) s; the tasks may still run: follow them with --resume \(folder.path)")
          }
          unreadableSince = unreadableSince ?? Date()
          continue
        }
        unreadableSince = nil
        for (t, where_) in pending.filter({ $0.value.job == job }).sorted(by: { $0.key < $1.key }) {
          let state = queue?[where_.index]
          if let state, state.isStuck {
            cancel()
            throw .failed(
              "\(book.name(t)): Slurm task \(job)_\(where_.index) cannot start (pending, reason \(state.reason): the request exceeds what the cluster allows); cancelled job \(job): change the slurm options and --resume \(folder.path)")
          }
          if let state, !state.isTerminal {
            if state.state == "RUNNING" && running.insert(t).inserted {
              progress(book.name(t) + ": Slurm task \(job)_\(where_.index) running on \(state.node)")
              started(t)
            }
            continue
          }
          pending[t] = nil
          record(t, outcome(t, job: job, index: where_.index, seen: state))
        }
      }
    }
  }

  /// A finished task's outcome: its point's summary when the task completed and the point ran
  /// clean; else Slurm's state, reason and exit code, the log, and the point's own complaint.
  private func outcome(_ t: Int, job: String, index: Int, seen: SlurmText.TaskState?) -> Result<RunSummary, FederationError> {
    let record = (try? SlurmCommand.run("scontrol", ["-o", "show", "job", job])).flatMap { SlurmText.records($0.out)[index] } ?? seen
    // Our own name for the log: scontrol's StdOut of a task that never started has no index.
    let log = SlurmArray.log(folder, job: job, index: index)
    let summary = book.summary(ofTask: t)
    if let summary, summary.problems.isEmpty, record == nil || record?.state == "COMPLETED" { return .success(summary) }
    var why = "Slurm task \(job)_\(index) " + (record.map { "\($0.state) (reason \($0.reason)" + ($0.exitCode.map { ", exit code \($0)" } ?? "") + ")" } ?? "ended")
    if let first = summary?.problems.first {
      why += ": " + first
    } else if let text = try? String(contentsOfFile: log, encoding: .utf8), let last = text.split(whereSeparator: \.isNewline).last {
      why += ": " + last
    }
    let logged = FileManager.default.fileExists(atPath: log)
    return .failure(.failed(why + (logged ? "; log \(log)" : "; it never started (no log)")))
  }
}
