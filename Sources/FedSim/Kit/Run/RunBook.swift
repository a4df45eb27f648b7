import FedSimCore
import Foundation

/// The bookkeeping of a run as its tasks (a point's repeat each) finish, whoever ran them (the
/// local job pool or a Slurm array): the outcomes, the failures, and the top summary rewritten
/// after every task, so what has finished is never lost.
struct RunBook {
  let design: RunDesign
  let folder: RunFolder
  private(set) var outcomes: [[RunSummary?]]
  private(set) var finished: [Int]
  private(set) var failures: [(task: Int, text: String)] = []
  private(set) var writeError: RunFolderError?

  init(design: RunDesign, folder: RunFolder) {
    (self.design, self.folder) = (design, folder)
    outcomes = .init(repeating: .init(repeating: nil, count: design.repeats), count: design.points.count)
    finished = .init(repeating: 0, count: design.points.count)
  }

  /// Every task of the design, in order: task `i` is point `i / repeats`, repeat `i % repeats`.
  var tasks: [(point: Int, repeat: Int)] { design.points.indices.flatMap { k in (0..<design.repeats).map { (k, $0) } } }

  /// Task `i`'s folder.
  func folder(ofTask i: Int) -> RunFolder {
    let (k, r) = design.task(i)
    return folder.point(k, repeat: r)
  }

  /// Task `i`'s name in messages.
  func name(_ i: Int) -> String {
    let (k, r) = design.task(i)
    return "point \(k + 1) (\(design.points[k].label)) repeat \(r + 1)"
  }

  /// What task `i`'s folder holds as its summary (nil: none yet, or unreadable).
  func summary(ofTask i: Int) -> RunSummary? {
    let sub = folder(ofTask: i)
    return try? sub.readJSON(RunSummary.self, from: sub.summary)
  }

  /// Records task `i`'s outcome; a failure keeps what the point's summary holds, if anything.
  mutating func record(_ i: Int, _ outcome: Result<RunSummary, FederationError>) {
    let (k, r) = design.task(i)
    switch outcome {
    case .success(let summary): outcomes[k][r] = summary
    case .failure(let error):
      failures.append((i, "\(name(i)): \(error)"))
      outcomes[k][r] = summary(ofTask: i)
    }
    finished[k] += 1
    rewrite()
  }

  /// Writes the top summary and the reports from what has finished.
  mutating func rewrite() {
    do throws(RunFolderError) { try TopSummary(design: design, folder: folder, settings: settings).write() } catch {
      writeError = error
    }
  }

  /// The summaries of the points whose repeats have all finished, in the design's order.
  var settings: [SettingSummary] {
    design.points.indices.filter { finished[$0] == design.repeats }.map {
      SettingSummary(setting: design.points[$0].label, summaries: outcomes[$0].compactMap { $0 })
    }
  }

  /// The run's end: its settings, or the first failure (and how many there were).
  func conclusion(stopped: Bool) throws(FederationError) -> [SettingSummary] {
    if let writeError { throw .folder(writeError) }
    if stopped { throw .failed("stopped") }
    if let first = failures.min(by: { $0.task < $1.task }) {
      let more = failures.count > 1 ? " (\(failures.count) of \(tasks.count) points failed)" : ""
      throw .failed(first.text + more + "; redo the failed points with --resume \(folder.path)")
    }
    return settings
  }
}
