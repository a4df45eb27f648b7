import Adversary
import FedData
import FedSimCore
import Foundation
import Tensors

/// Pairs each reconstruction in a point's folder with the private batches behind it (each file
/// read once), scores it, and draws the point's pictures: `grid.png` (truth above
/// reconstruction) and one animated timeline per attacked update.
struct Scoring {
  let folder: RunFolder
  let scenario: Scenario

  func summary() throws(FederationError) -> RunSummary {
    var rows: [RunSummary.Row] = []
    var grid: [Tensor] = []
    var problems: [String] = []
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.reconstructions)) ?? []).sorted()
    for name in names where name.hasSuffix(".safetensors") {
      do {
        let (row, pictures) = try score(folder.reconstructions + "/" + name)
        rows.append(row)
        grid += pictures
      } catch {
        problems.append(error.description)
      }
    }
    if let first = grid.first {
      let png = Pictures.grid(rows: grid, scale: Swift.max(1, 64 / first.shape[2]), columns: grid.map { $0.shape[0] }.max() ?? 1)
      do { try folder.write(Data(png), to: folder.path + "/grid.png") } catch { throw .folder(error) }
    }
    problems += failedAttacks()
    var records: [RoundRecord] = []
    do { records = try folder.readJSON([RoundRecord].self, from: folder.rounds) } catch {
      problems.append("no round records: \(error)")
    }
    return RunSummary(scenario: scenario, rows: rows, rounds: records, problems: problems)
  }

  /// The attacks the adversary logged as failed (R-GAP refusing a model, say): a point whose
  /// attacks failed is never summarised as if they had not been asked for.
  private func failedAttacks() -> [String] {
    EventLog.events(in: folder.events("adversary"), named: "attack_failed").map { event in
      let at = [event["round"].map { "round \($0)" }, event["client"].map { "client \($0)" }].compactMap { $0 }
      return "the attack" + (at.isEmpty ? "" : " on " + at.joined(separator: ", ")) + " failed: "
        + (event["reason"] as? String ?? "no reason given")
    }
  }

  /// One reconstruction's row, and its truth and matched reconstruction as two picture rows.
  private func score(_ path: String) throws(RunFileError) -> (RunSummary.Row, [Tensor]) {
    let r = try Reconstruction(contentsOf: path)
    let behind = try PrivateBatch(behind: r, in: folder)
    let truth = behind.images
    guard truth.shape == r.images.shape else {
      throw .unreadable(path: path, reason: "reconstructs \(r.images.shape) but the private batch is \(truth.shape)")
    }
    let threshold = scenario.attack?.threshold ?? 30
    let s = Leakage.score(
      reconstruction: r.images, truth: truth, labels: r.labels, trueLabels: behind.labels, threshold: threshold)
    let matched = concat(s.assignment.map { r.images.sliced(alongAxis: 0, $0..<($0 + 1)) }, alongAxis: 0)
    let frames = r.frames
    let timeline = Pictures.timeline(frames.isEmpty ? [r.images] : frames, truth: truth, scale: Swift.max(1, 96 / scenario.model.imageSize))
    try? folder.write(Data(timeline), to: folder.timeline(round: r.round, client: r.client))
    let scale = Swift.max(1, 64 / scenario.model.imageSize)
    writePicture(Pictures.grid(rows: [truth, matched], scale: scale, columns: truth.shape[0]), round: r.round, client: r.client)
    writeHistory(r, frames: frames, truth: truth)
    let row = RunSummary.Row(
      round: r.round, client: r.client, method: r.method.rawValue,
      defenses: scenario.defenses.isEmpty ? "none" : scenario.defenses.map(\.label).joined(separator: ", "),
      mse: s.mse, psnr: s.psnr, ssim: s.ssim, labelAccuracy: s.labelAccuracy, success: s.success, attackSeconds: r.wallSeconds,
      successIteration: successIteration(frames, r.snapshotIterations, truth: truth, threshold: threshold),
      trueLabels: behind.labels,
      recoveredLabels: s.assignment.map { $0 < r.labels.count ? r.labels[$0] : -1 })
    return (row, [truth, matched])
  }

  private func writePicture(_ png: [UInt8], round: Int, client: Int) {
    try? FileManager.default.createDirectory(atPath: folder.path + "/pictures", withIntermediateDirectories: true)
    try? folder.write(Data(png), to: folder.picture(round: round, client: client))
  }

  /// `history/r<round>-c<client>.csv`: the attack's gradient distance at every iteration, and at
  /// each snapshot the reconstruction's PSNR: of the batch's worst image (`min_psnr_db`, as
  /// `fedsim attack`'s `min_psnr`) and the mean over its images (`mean_psnr_db`, as the summary).
  private func writeHistory(_ r: Reconstruction, frames: [Tensor], truth: Tensor) {
    var psnrAt: [Int: [Double]] = [:]
    if frames.count == r.snapshotIterations.count {
      for (frame, i) in zip(frames, r.snapshotIterations) {
        psnrAt[i] = Leakage.matchedMSE(reconstruction: frame, truth: truth).map(Leakage.psnr(mse:))
      }
    }
    var csv = "iteration,gradient_distance,min_psnr_db,mean_psnr_db\n"
    let last = Swift.max(r.history.count, (r.snapshotIterations.max() ?? 0) + 1)
    for i in 0..<last {
      let d = i < r.history.count ? "\(r.history[i])" : ""
      let p = psnrAt[i].flatMap { v in v.min().map { "\($0),\(v.reduce(0, +) / Double(v.count))" } }
      if !d.isEmpty || p != nil { csv += "\(i),\(d),\(p ?? ",")\n" }
    }
    try? FileManager.default.createDirectory(atPath: folder.path + "/history", withIntermediateDirectories: true)
    try? folder.write(Data(csv.utf8), to: folder.history(round: r.round, client: r.client))
  }

  /// The iteration of the first snapshot whose every image reaches `threshold` dB.
  private func successIteration(_ frames: [Tensor], _ iterations: [Int], truth: Tensor, threshold: Double) -> Int? {
    guard frames.count == iterations.count else { return nil }
    return zip(frames, iterations).first { frame, _ in
      Leakage.matchedMSE(reconstruction: frame, truth: truth).allSatisfy { Leakage.psnr(mse: $0) >= threshold }
    }?.1
  }
}
