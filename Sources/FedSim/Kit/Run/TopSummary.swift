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
    md += "\nTruth above reconstruction, first repeat of each setting:\n\n"
    for (k, s) in settings.enumerated() where FileManager.default.fileExists(atPath: folder.path + "/points/p\(k)-r0/grid.png") {
      md += "- \(s.setting)\n\n  ![\(s.setting)](points/p\(k)-r0/grid.png)\n\n"
    }
    return md
  }
}
