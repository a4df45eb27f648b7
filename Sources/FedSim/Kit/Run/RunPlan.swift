import FedSimCore
import Foundation
import Synchronization

/// A whole `fedsim run`: every point of the design, each repeated, each in its own folder
/// (`points/p<k>-r<r>`) with its own processes. A point whose `summary.json` exists is finished,
/// so `--resume` runs only what is missing. The top folder keeps the scenario as written
/// (`scenario.json`), the resolved design (`design.json`) and one summary row per setting.
public final class RunPlan: Sendable {
  public let design: RunDesign
  public let folder: RunFolder
  public let binaries: String
  /// Held from the plan's making to the end of its run; a Slurm task, run under its launcher's
  /// lock, holds none.
  let lock: RunLock?
  private let slurm = Mutex<SlurmExecutor?>(nil)
  private let current = Mutex<[Int: Launcher]>([:])
  private let stopped = Mutex(false)
  private let pointHandler = Mutex<(@Sendable (RunFolder, String) -> Void)?>(nil)

  public static func designPath(_ folder: RunFolder) -> String { folder.path + "/design.json" }

  /// A new run of `design` into `folder`, which must not hold a run already.
  public init(design: RunDesign, file: ScenarioFile, folder: RunFolder, binaries: String) throws(FederationError) {
    // Never mix two runs, nor overwrite one: a folder that holds a run is finished with --resume.
    if FileManager.default.fileExists(atPath: Self.designPath(folder)) || FileManager.default.fileExists(atPath: folder.scenario) {
      throw .failed("\(folder.path) already holds a run: finish it with --resume \(folder.path), or choose another --out")
    }
    if let inside = try? FileManager.default.contentsOfDirectory(atPath: folder.path), !inside.isEmpty {
      throw .failed("\(folder.path) exists and is not empty: a run never writes over other files; choose another --out")
    }
    (self.design, self.folder, self.binaries) = (design, folder, binaries)
    do {
      try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
      try folder.writeJSON(file, to: folder.scenario)
      try folder.writeJSON(design, to: Self.designPath(folder))
    } catch let e as RunFolderError { throw .folder(e) } catch {
      throw .folder(.write(path: folder.path, reason: error.localizedDescription))
    }
    lock = try RunLock(folder: folder)
  }

  /// The interrupted run in `folder`, to finish; `locking: false` for one task of a run whose
  /// launcher holds the lock (a Slurm array task).
  public init(resuming folder: RunFolder, binaries: String, locking: Bool = true) throws(FederationError) {
    guard FileManager.default.fileExists(atPath: Self.designPath(folder)) else {
      throw .failed("\(folder.path) has no design.json: not a run folder")
    }
    do { design = try folder.readJSON(RunDesign.self, from: Self.designPath(folder)) } catch { throw .folder(error) }
    for p in design.points {
      do { _ = try p.scenario.validated(source: Self.designPath(folder)) } catch { throw .folder(.invalid(error)) }
    }
    (self.folder, self.binaries) = (folder, binaries)
    lock = locking ? try RunLock(folder: folder) : nil
  }

  /// Called as each point starts (its folder and label), e.g. by the live view.
  public func onPoint(_ handler: @escaping @Sendable (RunFolder, String) -> Void) { pointHandler.withLock { $0 = handler } }

  public func pointFolder(_ point: Int, repeat r: Int) -> RunFolder { folder.point(point, repeat: r) }

  /// Runs every point not finished before, `jobs` points (or repeats) at once, each with its
  /// own processes, ports and folder. A point that fails keeps its summary (with its problems)
  /// and the others still run; the run then fails naming every failed point. The top summary
  /// is rewritten as each point completes; the outcome is the same whatever `jobs` is.
  public func run(jobs: Int = 1, progress: (String) -> Void = { _ in }) throws(FederationError) -> [SettingSummary] {
    try session("local, --jobs \(jobs)") { (book: inout RunBook) throws(FederationError) in
      // Never run a point here that a Slurm task may be running too.
      if let busy = try SlurmArray.queuedIfSlurm(in: folder).first {
        throw .failed(
          "Slurm still holds \(busy.tasks.count) tasks of this run (job \(busy.job)): follow them with --resume \(folder.path) --executor slurm, or cancel them (scancel \(busy.job))")
      }
      let tasks = book.tasks
      let tagged = jobs > 1
      JobPool.run(
        count: tasks.count, jobs: jobs, shouldStart: { [self] in !stopped.withLock { $0 } },
        work: { [self] i, say in
          let tag = tagged ? "[\(tasks[i].point + 1).\(tasks[i].repeat + 1)] " : ""
          return Result<RunSummary, FederationError> { () throws(FederationError) in
            try runTask(i, progress: { say($0.hasPrefix("point ") ? $0 : "  " + tag + $0) })
          }
        },
        line: progress,
        done: { book.record($0, $1) })
    }
  }

  /// Runs the points not finished before as Slurm job arrays (`SlurmExecutor`), keeping the
  /// same books as a local run.
  public func run(slurm options: SlurmOptions, progress: @escaping (String) -> Void = { _ in }) throws(FederationError) -> [SettingSummary] {
    try session("slurm" + (options.partition.map { ", partition \($0)" } ?? "")) { (book: inout RunBook) throws(FederationError) in
      let executor = SlurmExecutor(options: options, book: book, fedsim: binaries + "/fedsim")
      slurm.withLock { $0 = executor }
      if stopped.withLock({ $0 }) { throw .failed("stopped") }
      try executor.run(
        progress: progress, stopped: { [self] in stopped.withLock { $0 } },
        started: { [self] t in  // the live view follows a task's folder on the shared file system
          let (k, r) = design.task(t)
          pointHandler.withLock { $0 }?(pointFolder(k, repeat: r), design.label(k, repeat: r))
        }
      ) { book.record($0, $1) }
    }
  }

  /// One session of the run, whichever executor runs it: `run.json` records its start and end,
  /// `body` keeps the books, the reports are rewritten once it ends (with its wall time), and
  /// the lock is released however it ends.
  private func session(
    _ executor: String, _ body: (inout RunBook) throws(FederationError) -> Void
  ) throws(FederationError) -> [SettingSummary] {
    let start = RunMetadata.begin(folder, executor: executor)
    defer { lock?.release() }
    var book = RunBook(design: design, folder: folder)
    var failure: FederationError?
    do throws(FederationError) { try body(&book) } catch { failure = error }
    RunMetadata.end(folder, started: start)
    if let failure { throw failure }
    book.rewrite()
    return try book.conclusion(stopped: stopped.withLock { $0 })
  }

  /// The executor this run's folder was last run with: `slurm` once it submitted an array.
  public var executorUsed: ExecutorKind? {
    FileManager.default.fileExists(atPath: SlurmArray.record(folder)) ? .slurm : nil
  }

  /// The Slurm options the run was first submitted with, if it was.
  public var slurmOptionsUsed: SlurmOptions? { try? folder.readJSON(SlurmOptions.self, from: SlurmArray.options(folder)) }

  /// Runs task `i` (point `i / repeats`, repeat `i % repeats`) here, unless it finished before.
  /// `placement` spreads its clients over a Slurm task's nodes.
  public func runTask(_ i: Int, placement: NodePlacement? = nil, progress: (String) -> Void = { _ in }) throws(FederationError) -> RunSummary {
    let count = design.points.count * design.repeats
    guard i >= 0 && i < count else { throw .failed("task \(i) is not in this run: its tasks are 0 to \(count - 1)") }
    let (k, r) = design.task(i)
    return try runPoint(k, design.points[k], repeat: r, task: i, placement: placement, progress: progress)
  }

  private func runPoint(
    _ k: Int, _ point: RunDesign.Point, repeat r: Int, task: Int, placement: NodePlacement? = nil, progress: (String) -> Void
  ) throws(FederationError) -> RunSummary {
    let sub = pointFolder(k, repeat: r)
    let name = "point \(k + 1)/\(design.points.count) (\(point.label)) repeat \(r + 1)"
    if let done = try? sub.readJSON(RunSummary.self, from: sub.summary), done.problems.isEmpty {
      progress(name + ": finished before, kept")
      return done
    }
    try? FileManager.default.removeItem(atPath: sub.path)  // a partial point starts over
    var s = point.scenario
    s.seed = s.seed &+ UInt64(r)
    progress(name + "/\(design.repeats)")
    let launcher = try Launcher(scenario: s, folder: sub, binaries: binaries, lock: lock, placement: placement)
    pointHandler.withLock { $0 }?(sub, design.label(k, repeat: r))
    current.withLock { $0[task] = launcher }
    defer { current.withLock { $0[task] = nil } }
    // Stopped between the check and the registration: stop this one too.
    if stopped.withLock({ $0 }) { launcher.stopAll() }
    return try launcher.run(progress: progress)
  }

  /// Stops the processes of the points running now (cancels the Slurm arrays), and starts no other.
  public func stopAll() {
    stopped.withLock { $0 = true }
    for launcher in current.withLock({ Array($0.values) }) { launcher.stopAll() }
    slurm.withLock { $0 }?.cancel()
    lock?.release()
  }
}
