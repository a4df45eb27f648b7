import FedSimCore
import Foundation
import Tensors

/// What `report.html` shows, in the shape `ReportTemplate` reads: every figure already a string,
/// every picture a data URI. The template escapes the text; only `svg` fields go in as they are.
struct ReportView {
  struct Row {
    struct Leakage { var psnr, ssim, mse, labels, recovered, seconds: String }
    var setting: String
    var leakage: Leakage?
    var accuracy, epsilon: String
    var roundsFailed, updatesDropped: Int
  }
  struct Chart { var name, svg, svgHref, csvHref: String }
  struct ChartBlock { var heading: String; var charts: [Chart] }
  struct Tile {
    var round, client: Int
    var picture: String
    var timeline: String?
    var head, figures: String
    var recovered: Bool
  }
  struct TileGroup { var label: String; var tiles: [Tile] }
  /// One setting's evolution strip: truth, then the reconstruction at the shown steps.
  struct Strip { var setting, picture, steps: String }
  struct EvolutionBlock {
    var strips: [Strip]
    /// MSE against iteration, every setting on one chart (SVG).
    var mse: String
  }
  struct Setting {
    var name: String
    /// The first repeat, shown; the others folded, a click away in the same file.
    var shown: TileGroup?
    var folded: [TileGroup]
  }

  var title: String
  var meta: String?
  var repeats: Int
  var threshold: Int
  var rows: [Row]
  var leakageCharts: ChartBlock?
  var tradeOff: String?
  var distance: String?
  var evolution: EvolutionBlock?
  var settings: [Setting]
  var scenario: String
}

extension ReportView.Row {
  init(_ s: SettingSummary) {
    setting = s.setting
    if s.attacks > 0 {
      leakage = Leakage(
        psnr: s.psnr.text("%.2f"), ssim: s.ssim.text("%.4f"), mse: String(format: "%.3g", s.mse.mean),
        labels: String(format: "%.0f%%", 100 * s.labelAccuracy.mean),
        recovered: String(format: "%.0f%% of %d", 100 * s.successRate, s.attacks), seconds: s.attackSeconds.text("%.1f"))
    }
    accuracy = s.accuracyText
    epsilon = s.epsilon.map { String(format: "%.3g", $0) } ?? "—"
    (roundsFailed, updatesDropped) = (s.roundsFailed, s.updatesDropped)
  }
}

extension ReportView.Tile {
  /// Every attacked update of one point's repeat: its picture, captioned with what the attack
  /// got (PSNR, SSIM, labels), and its timeline.
  static func all(in folder: RunFolder, repeat r: Int, repeats: Int) -> [Self] {
    guard let summary = try? folder.readJSON(RunSummary.self, from: folder.summary) else { return [] }
    return summary.rows.compactMap { row in
      guard let png = try? Data(contentsOf: URL(fileURLWithPath: folder.picture(round: row.round, client: row.client))) else { return nil }
      let timeline = try? Data(contentsOf: URL(fileURLWithPath: folder.timeline(round: row.round, client: row.client)))
      let labels = row.trueLabels.map { t in
        "labels " + t.map(String.init).joined(separator: " ") + " → "
          + (row.recoveredLabels ?? []).map { $0 < 0 ? "?" : String($0) }.joined(separator: " ")
      } ?? String(format: "labels %.0f%% right", 100 * row.labelAccuracy)
      return Self(
        round: row.round, client: row.client, picture: "data:image/png;base64," + png.base64EncodedString(),
        timeline: timeline.map { "data:image/png;base64," + $0.base64EncodedString() },
        head: (repeats > 1 ? "repeat \(r + 1) · " : "") + "round \(row.round) · client \(row.client) · \(row.method)",
        figures: String(format: "PSNR %.1f dB · SSIM %.3f · ", row.psnr, row.ssim) + labels, recovered: row.success)
    }
  }
}

extension ReportView.Chart {
  /// A chart whose SVG and data download inline (the report fetches nothing).
  init(name: String, svg: String, csv: String) {
    self.init(
      name: name, svg: svg, svgHref: "data:image/svg+xml;base64," + Data(svg.utf8).base64EncodedString(),
      csvHref: "data:text/csv;base64," + Data(csv.utf8).base64EncodedString())
  }
}
