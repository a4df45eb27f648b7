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
    try folder.write(Data(csv.utf8), to: folder.path + "/summary.csv")
    try folder.write(Data(markdown.utf8), to: folder.path + "/report.md")
    try HTMLReport.write(folder: folder)
  }

  /// `summary.csv`: after the setting's label, one column per swept key holding its value
  /// (numbers as numbers, empty where a point leaves the key alone), then the statistics.
  var csv: String {
    var keys: [String] = []
    for s in settings where s.setting != "base" {
      for part in s.setting.components(separatedBy: ", ") {
        let (k, _) = SweepSeries.split(part)
        if !keys.contains(k) { keys.append(k) }
      }
    }
    let header = SettingSummary.csvHeader.replacingOccurrences(of: "setting,", with: (["setting"] + keys).joined(separator: ",") + ",", options: .anchored)
    var out = header + "\n"
    for s in settings {
      let values = Dictionary(s.setting.components(separatedBy: ", ").map(SweepSeries.split), uniquingKeysWith: { a, _ in a })
      let cells = keys.map { k in values[k].map { v in Double(v) != nil ? v : "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\"" } ?? "" }
      let row = s.csvRow
      let afterSetting = row.index(row.startIndex, offsetBy: s.csvSettingField.count)
      out += s.csvSettingField + (keys.isEmpty ? "" : "," + cells.joined(separator: ",")) + row[afterSetting...] + "\n"
    }
    return out
  }

  var markdown: String {
    var md = "# \(design.name)\n\n" + (RunMetadata.read(folder).map { "Run \($0.line).\n\n" } ?? "") + "Leakage per defense setting: mean ± std over \(design.repeats) repeat(s) and the attacked updates.\n\n"
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
        return r.psnr.text("%.2f") + String(format: " | %.0f%%", 100 * r.successRate)
      }
      md += "| \(s.setting) | \(cell(first.round)) | \(cell(last.round)) | \(s.accuracyText) |\n"
    }
    return md
  }
}
