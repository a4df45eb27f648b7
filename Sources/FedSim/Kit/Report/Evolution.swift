import Adversary
import FedData
import FedSimCore
import Foundation
import Tensors

/// How each setting's reconstruction emerged (first repeat, first attacked update): the truth,
/// then the reconstruction at steps 0, 10, 50, 100, 300 and the last (the nearest snapshots), and
/// its MSE against the truth at every snapshot, for the report's evolution strips and MSE chart.
struct Evolution {
  var setting: String
  /// Truth, then the chosen snapshots, as one picture row (PNG).
  var strip: [UInt8]
  /// The steps of the chosen snapshots.
  var steps: [Int]
  /// (iteration, MSE averaged over the batch) at every snapshot.
  var mse: [(x: Double, y: Double)]

  /// The steps the DLG study shows.
  static let shownSteps = [0, 10, 50, 100, 300]

  /// How `r`, an attack of the point in `folder`, emerged; nil when it kept no snapshots or its
  /// truth is not there.
  init?(_ r: Reconstruction, folder: RunFolder, setting: String) {
    guard !r.snapshotIterations.isEmpty, let truth = try? PrivateBatch(behind: r, in: folder).images else { return nil }
    let frames = r.frames
    guard truth.shape == r.images.shape, frames.count == r.snapshotIterations.count else { return nil }
    let mse = zip(r.snapshotIterations, frames).map { i, f in
      let each = Leakage.matchedMSE(reconstruction: f, truth: truth)
      return (Double(i), each.reduce(0, +) / Double(each.count))
    }
    // The nearest snapshot to each shown step within the run, and the last.
    let last = r.snapshotIterations.count - 1
    var chosen = Self.shownSteps.filter { $0 <= r.snapshotIterations[last] }.map { step in
      r.snapshotIterations.indices.min { abs(r.snapshotIterations[$0] - step) < abs(r.snapshotIterations[$1] - step) } ?? last
    }
    chosen.append(last)
    var unique: [Int] = []
    for k in chosen where !unique.contains(k) { unique.append(k) }
    // The first image of the batch, matched to its reconstruction.
    let order = Leakage.assignment(reconstruction: r.images, truth: truth)
    let shown = concat([truth.sliced(alongAxis: 0, 0..<1)] + unique.map { frames[$0].sliced(alongAxis: 0, order[0]..<(order[0] + 1)) }, alongAxis: 0)
    let scale = Swift.max(1, 96 / truth.shape[2])
    (self.setting, self.strip) = (setting, Pictures.grid(rows: [shown], scale: scale))
    (self.steps, self.mse) = (unique.map { r.snapshotIterations[$0] }, mse)
  }
}

extension RunFolder {
  /// The point's first attacked update (by file name: the first round, the first client), or
  /// nil when it has none or it cannot be read.
  func firstReconstruction() -> Reconstruction? {
    guard let name = ((try? FileManager.default.contentsOfDirectory(atPath: reconstructions)) ?? []).sorted().first else { return nil }
    return try? Reconstruction(contentsOf: reconstructions + "/" + name)
  }
}
