import FedData
import FedSimKit
import ArgumentParser
import FedSimCore
import Foundation

struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a federated-learning scenario: server, clients and adversary as separate processes.",
    discussion: """
      Writes the run folder: scenario.json, design.json, run.json, points/, summary.csv, summary.json, \
      report.md, report.html, charts/.

      Examples:
        fedsim run scenarios/demo.yaml
        fedsim run scenarios/cifar100-noise.yaml --jobs 2 --out runs/noise
        fedsim run scenarios/demo.yaml --set attack.method=wdlg
        fedsim run scenarios/demo.yaml --set 'sweep={prune: [0, 0.5]}'
        fedsim run --resume runs/noise
        fedsim run scenarios/scaling.yaml --executor slurm --time 20
      """)

  @Argument(help: "The scenario YAML file.", completion: .file(extensions: ["yaml", "yml"])) var scenario: String?
  @Option(help: "The run folder (default: runs/NAME-TIME).", completion: .directory) var out: String?
  @Option(name: .customLong("set"), help: "Override a scenario key: KEY=VALUE (repeatable).") var sets: [String] = []
  @Option(help: "Finish the interrupted run in this folder, keeping the points already done.", completion: .directory)
  var resume: String?
  @Option(help: "Points (or repeats) run at once, each with its own processes and ports (default: the number of cores).")
  var jobs: Int?
  @Option(help: "Serve a live view of the run on http://127.0.0.1:PORT (0: any free port), for projecting.") var serve: Int?
  @Option(help: "Where the points run: local (this machine) or slurm (one job array; default: the scenario's executor, else local).")
  var executor: ExecutorKind?
  @OptionGroup(title: "Slurm (with --executor slurm; each over the scenario's slurm section)") var slurm: SlurmFlags

  func validate() throws {
    if (scenario == nil) == (resume == nil) { throw ValidationError("give a scenario file or --resume DIR") }
    if resume != nil && (!sets.isEmpty || out != nil) { throw ValidationError("--resume takes the run folder's own scenario") }
    if let jobs, !(1...256).contains(jobs) { throw ValidationError("--jobs must be 1 to 256") }
    if executor == .slurm && jobs != nil { throw ValidationError(Self.jobsUnderSlurm) }
    if executor == .local && slurm.options != SlurmOptions() {
      throw ValidationError("the Slurm options need --executor slurm (or executor: slurm in the scenario)")
    }
  }

  func run() throws {
    let plan = try makePlan()
    var live: LiveServer?
    if let serve {
      do {
        let server = try LiveServer.open(port: serve, points: plan.design.points.count * plan.design.repeats)
        plan.onPoint { server.show($0, label: $1) }
        live = server
        // At once, whatever buffers standard output: the audience needs the address first.
        FileHandle.standardOutput.write(Data("live view: http://127.0.0.1:\(server.port)/\n".utf8))
      } catch { throw fail("\(error)") }
    }
    let finished = Locked(false)  // shared with the signal handlers
    let handlers = Self.stopOnSignals(plan, finished: finished)
    // Progress: a bar over the points on a terminal; the lines, unbuffered, in any case.
    let bar = ProgressBar(total: plan.design.points.count * plan.design.repeats, label: plan.design.name)
    var started = 0
    let settings: [SettingSummary]
    let say: (String) -> Void = { line in
      if line.hasPrefix("point ") {
        bar.update(started)
        started += 1
      }
      bar.message(line)
    }
    do {
      switch executor ?? plan.executorUsed ?? plan.design.executor ?? .local {
      case .local: settings = try plan.run(jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount, progress: say)
      case .slurm:
        if jobs != nil { throw FederationError.failed(Self.jobsUnderSlurm) }
        let options = try (plan.slurmOptionsUsed ?? plan.design.slurm ?? SlurmOptions()).overridden(by: slurm.options)
          .validated(where: "the scenario's slurm section with the command line's options")
        settings = try plan.run(slurm: options, progress: say)
      }
    } catch { throw fail("\(error)") }
    bar.update(started)
    Self.printSettings(settings)
    print("wrote \(plan.folder.path)/summary.csv, summary.json, report.md, report.html")
    if let live {
      live.finish(settings.map { "\($0.setting): PSNR \($0.psnr.brief("%.1f")) dB, recovered \(Int((100 * $0.successRate).rounded()))% of \($0.attacks)" })
      finished.withLock { $0 = true }
      // Unbuffered, as the address: through a pipe, print's buffer held it for as long as the wait.
      fflush(nil)  // the summary lines print wrote, ahead of this one
      FileHandle.standardOutput.write(Data("the live view stays up until Ctrl-C\n".utf8))
      // The handlers kept through the wait: past their last use the compiler released them, and
      // Ctrl-C and SIGTERM were then ignored (SIG_IGN, set for them, stayed).
      withExtendedLifetime(handlers) { while true { Thread.sleep(forTimeInterval: 3600) } }
    }
    withExtendedLifetime(handlers) {}
  }

  static let jobsUnderSlurm = "--jobs counts points at once on this machine; under Slurm, --max-running limits the tasks at once"

  /// The plan of a new run (the file, with its overrides, designed) or of the one to resume.
  private func makePlan() throws -> RunPlan {
    let binaries = binariesFolder()
    if let resume {
      let folder = RunFolder(try existingFolder(resume))
      do { return try RunPlan(resuming: folder, binaries: binaries) } catch { throw fail("\(error)") }
    }
    let path = scenario ?? ""
    do {
      let file = try ScenarioFile.load(path: path).overriding(sets, source: path)
      let design = try file.design(source: path + (sets.isEmpty ? "" : " with --set " + sets.joined(separator: " ")))
      let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
      let folder = RunFolder(out ?? "runs/\(design.name)-\(stamp)")
      return try RunPlan(design: design, file: file, folder: folder, binaries: binaries)
    } catch { throw fail("\(error)") }
  }

  /// Ctrl-C, SIGTERM and SIGHUP stop every child before the launcher exits.
  private static func stopOnSignals(_ plan: RunPlan, finished: Locked<Bool>) -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM, SIGHUP].map { number in
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler {
        if finished.withLock({ $0 }) { Foundation.exit(0) }  // the live view's audience has seen the end
        FileHandle.standardError.write(Data("\ninterrupted: stopping every process; finish with --resume \(plan.folder.path)\n".utf8))
        plan.stopAll()
        Foundation.exit(number == SIGINT ? 130 : 128 + number)
      }
      source.resume()
      return source
    }
  }

  private static func accuracy(_ s: SettingSummary) -> String {
    s.testAccuracy.map { String(format: "test accuracy %.1f%%", 100 * $0.mean) } ?? "no test set"
  }

  private static func printSettings(_ settings: [SettingSummary]) {
    for s in settings where s.attacks == 0 {
      print("\(s.setting): no attack; " + accuracy(s)
        + (s.epsilon.map { String(format: ", DP-SGD ε %.3g", $0) } ?? ""))
    }
    for s in settings where s.attacks > 0 {
      print("\(s.setting): PSNR \(s.psnr.brief("%.2f")) dB, " + String(format: "SSIM %.4f, labels %.0f%%, recovered %.0f%% of %d, ",
        s.ssim.mean, 100 * s.labelAccuracy.mean, 100 * s.successRate, s.attacks) + accuracy(s)
        + (s.epsilon.map { String(format: ", DP-SGD ε %.3g", $0) } ?? ""))
    }
  }
}

/// The Slurm options of `fedsim run`.
struct SlurmFlags: ParsableArguments {
  @Option(help: "The Slurm partition.") var partition: String?
  @Option(help: "The time limit of one task (sbatch --time).") var time: String?
  @Option(help: "CPUs per task, which are also its BLAS threads (default 1).") var cpusPerTask: Int?
  @Option(help: "Memory per task (sbatch --mem: 500M, 2G).") var mem: String?
  @Option(help: "At most this many tasks running at once (the array's %N).") var maxRunning: Int?
  @Option(help: "A further sbatch argument, as it is (repeatable: --sbatch-arg=--qos=low).") var sbatchArg: [String] = []
  @Option(help: "Nodes per task (with --spread-clients).") var nodes: Int?
  @Flag(help: "Start each task's clients as job steps on its other nodes; the server binds the first node's address.")
  var spreadClients = false

  var options: SlurmOptions {
    var o = SlurmOptions()
    (o.partition, o.time, o.cpusPerTask, o.memory, o.maxRunning) = (partition, time, cpusPerTask, mem, maxRunning)
    o.sbatchArguments = sbatchArg.isEmpty ? nil : sbatchArg
    o.nodes = nodes
    o.spreadClients = spreadClients ? true : nil
    return o
  }
}

extension ExecutorKind: ExpressibleByArgument {}

/// One task of a run, as a Slurm array task runs it: the point's repeat, into the run folder.
struct RunTask: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run-task", abstract: "Run one task (a point's repeat) of a run folder: what each Slurm array task does.",
    shouldDisplay: false)

  @Argument(help: "The run folder (written by fedsim run).") var runDirectory: String
  @Argument(help: "The task: point × repeats + repeat, from 0.") var task: Int

  func run() throws {
    let binaries = binariesFolder()
    do {
      let plan = try RunPlan(resuming: RunFolder(runDirectory), binaries: binaries, locking: false)
      // Unbuffered, so the task's log keeps its lines in order with a final error.
      let say = { (line: String) in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
      let placement = plan.slurmOptionsUsed?.spreadClients == true ? try NodePlacement.current() : nil
      if let placement { say("placement: server on \(placement.nodes[0]) (\(placement.serverAddress)), clients on \(placement.nodes.count == 1 ? placement.nodes[0] : placement.nodes.dropFirst().joined(separator: ", "))") }
      let summary = try plan.runTask(task, placement: placement, progress: say)
      let (k, r) = plan.design.task(task)
      say("task \(task): \(summary.rows.count) attacked updates scored; wrote \(plan.folder.point(k, repeat: r).summary)")
    } catch { throw fail("\(error)") }
  }
}

struct Report: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write report.html for a run folder: one self-contained file (images and charts inline).",
    discussion: "Example:\n  fedsim report runs/noise")

  @Argument(help: "The run folder.", completion: .directory) var runDirectory: String

  func run() throws {
    let folder = RunFolder(try existingFolder(runDirectory))
    do { print("wrote " + (try HTMLReport.write(folder: folder))) } catch {
      throw fail("\(runDirectory) is not a finished run folder: \(describe(error))")
    }
  }
}
