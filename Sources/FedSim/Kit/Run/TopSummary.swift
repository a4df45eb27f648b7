import FedSimCore
import Foundation

/// The run folder's own summary: one row per setting in `summary.json`, `summary.csv` and
/// `report.md`, and `report.html`.
struct TopSummary {
  let design: RunDesign
  let folder: RunFolder
  let settings: [SettingSummary]

  func write() throws(RunFolderError) {
    try folder.writeJSON(settings, to: folder.summary)
    var csv = SettingSummary.csvHeader + "\n"
    for s in settings { csv += s.csvRow + "\n" }
    try folder.write(Data(csv.utf8), to: folder.path + "/summary.csv")
    try folder.write(Data(markdown.utf8), to: folder.path + "/report.md")
    try HTMLReport.write(folder: folder)
  }

  var markdown: String {
    var md = "# \(design.name)\n\nLeakage per defense setting: mean ± std over \(design.repeats) repeat(s) and the attacked updates.\n\n"
    md += "| setting | PSNR (dB) | SSIM | MSE | label acc. | recovered | iterations to success | attack (s) | test accuracy | DP ε | rounds failed | updates dropped |\n"
    md += "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
    for s in settings { md += s.markdownRow + "\n" }
    md += byRoundTable
    md += "\nTruth above reconstruction, first repeat of each setting:\n\n"
    for (k, s) in settings.enumerated() where FileManager.default.fileExists(atPath: folder.path + "/points/p\(k)-r0/grid.png") {
      md += "- \(s.setting)\n\n  ![\(s.setting)](points/p\(k)-r0/grid.png)\n\n"
    }
    return md
  }

  /// Leakage at the first and the last attacked round beside the accuracy the defense left,
  /// when more than one round was attacked (empty otherwise).
  var byRoundTable: String {
    guard let rounds = settings.first(where: { $0.byRound.count > 1 })?.byRound, let first = rounds.first, let last = rounds.last else {
      return ""
    }
    var md = "\nLeakage at the first and the last attacked round (PSNR mean ± std, share recovered):\n\n"
    md += "| setting | round \(first.round) PSNR (dB) | recovered | round \(last.round) PSNR (dB) | recovered | test accuracy |\n"
    md += "| --- | --- | --- | --- | --- | --- |\n"
    for s in settings {
      func cell(_ round: Int) -> String {
        guard let r = s.byRound.first(where: { $0.round == round }) else { return "— | —" }
        return String(format: "%.2f ± %.2f | %.0f%%", r.psnr.mean, r.psnr.std, 100 * r.successRate)
      }
      md += "| \(s.setting) | \(cell(first.round)) | \(cell(last.round)) | \(s.accuracyText) |\n"
    }
    return md
  }
}
