import Adversary
import FedSimCore
import FedSimKit
import Foundation
import Tensors

/// Draws the attack under way from the run folder: the truth the client kept and the
/// adversary's latest snapshot.
final class Live {
  let folder: RunFolder
  let label: String
  let method: AttackMethod
  var truth: Tensor?
  /// The largest enlargement of the pictures (the terminal may allow less).
  var largest = 4
  private var drawnLines = 0
  private var lastIteration = -1
  private var lastPlainStep = -1

  init(folder: RunFolder, label: String, method: AttackMethod) { (self.folder, self.label, self.method) = (folder, label, method) }

  /// Draws the latest state; at the end, the final reconstruction and its PSNR.
  @discardableResult
  func draw(final: Bool = false) -> (Tensor, Double)? {
    if truth == nil, let t = try? PrivateBatch(contentsOf: folder.truth(round: 1, client: 0)).images { truth = t }
    let file: SafetensorsFile?
    if final {
      file = try? SafetensorsFile(contentsOf: folder.reconstruction(round: 1, client: 0))
    } else {
      file = try? SafetensorsFile(contentsOf: folder.live(round: 1, client: 0))
    }
    guard let truth, let file, let recon = try? file.tensor("reconstruction") else { return nil }
    let iteration = Int(file.metadata["iteration"] ?? "") ?? Int(file.metadata["iterations"] ?? "") ?? 0
    let of = Int(file.metadata["of"] ?? file.metadata["iterations"] ?? "") ?? 0
    guard final || iteration != lastIteration else { return nil }
    lastIteration = iteration
    let psnr = Leakage.psnr(mse: Leakage.matchedMSE(reconstruction: recon, truth: truth).reduce(0, +))
    let distance = Double(file.metadata["distance"] ?? "") ?? .nan
    let trial = Int(file.metadata["trial"] ?? "") ?? 0
    let status = String(
      format: "%@ · %@%@ · iteration %d/%d · gradient distance %.3g · PSNR %.1f dB%@", label, method.rawValue.uppercased(),
      trial > 0 ? " (start \(trial + 1))" : "", iteration, of, distance, psnr, final ? " · done" : "")
    if TerminalPicture.colourTerminal {
      paint(recon, status: status)
      if final { drawnLines = 0 }
    } else {
      let step = of > 0 ? iteration * 10 / of : 0
      if final || step > lastPlainStep {
        lastPlainStep = step
        FileHandle.standardOutput.write(Data((status + "\n").utf8))
      }
    }
    return (recon.sliced(alongAxis: 0, 0..<1).reshaped(to: Array(recon.shape.dropFirst())), psnr)
  }

  /// Draws the truth beside `recon` under `status`, over the previous drawing.
  private func paint(_ recon: Tensor, status: String) {
    guard let truth else { return }
    let pictures = TerminalPicture.lines(
      [truth.sliced(alongAxis: 0, 0..<1).reshaped(to: Array(truth.shape.dropFirst())),
       recon.sliced(alongAxis: 0, 0..<1).reshaped(to: Array(recon.shape.dropFirst()))],
      captions: ["the client's private image", "what the server reconstructs"],
      width: TerminalPicture.fit(
        count: 2, width: truth.shape[2], columns: TerminalPicture.columns, lines: TerminalPicture.rows - 5, largest: largest))
    var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)F" : ""
    // Cut to the terminal's width: a wrapped line would break the redraw into stripes.
    let legend = "PSNR: how close the copy is, in dB; 30 and up is recognisable"
    for line in [status, legend].map({ TerminalPicture.clipped($0, columns: TerminalPicture.columns) }) + pictures {
      text += line + "\u{1B}[K\n"
    }
    FileHandle.standardOutput.write(Data(text.utf8))
    drawnLines = pictures.count + 2
  }

  /// Replays the finished attack's recorded snapshots over `seconds`, in slow motion, so a
  /// class sees the picture emerge step by step (a colour terminal only).
  func replay(seconds: Double) {
    guard TerminalPicture.colourTerminal, seconds > 0, let truth,
      let r = try? Reconstruction(contentsOf: folder.reconstruction(round: 1, client: 0)), r.snapshots.shape[0] > 0
    else { return }
    let frames = r.frames
    let n = frames.count
    drawnLines = 0
    for (k, frame) in frames.enumerated() {
      let psnr = Leakage.psnr(mse: Leakage.matchedMSE(reconstruction: frame, truth: truth).reduce(0, +))
      let iteration = k < r.snapshotIterations.count ? r.snapshotIterations[k] : k
      paint(frame, status: String(format: "%@ · replay · iteration %d/%d · PSNR %.1f dB", label, iteration, r.iterations, psnr))
      Thread.sleep(forTimeInterval: seconds / Double(n))
    }
    drawnLines = 0
  }
}
