import FedSimCore
import Foundation
import Tensors

/// `report.html`: one self-contained file (every image and chart inline, nothing fetched) with a
/// run's scenario, its leakage-per-setting table, charts, and each setting's picture grid and
/// timelines. The page is `ReportTemplate` filled from a `ReportView`.
public enum HTMLReport {
  /// A chart as the report shows it and `charts/` holds it: its SVG and its data.
  struct ChartFile {
    var name: String
    var chart: LeakageChart
    var svg: String
    var csv: String
  }

  /// Writes `report.html` into the run folder from what the run wrote there.
  @discardableResult
  public static func write(folder: RunFolder) throws(RunFolderError) -> String {
    let design = try folder.readJSON(RunDesign.self, from: RunPlan.designPath(folder))
    let settings = try folder.readJSON([SettingSummary].self, from: folder.summary)
    let file = (try? Data(contentsOf: URL(fileURLWithPath: folder.scenario))).map { String(decoding: $0, as: UTF8.self) } ?? ""
    let attacked = settings.filter { $0.attacks > 0 }
    let charts = attacked.isEmpty ? [] : leakageCharts(attacked, threshold: threshold(design))
    if !charts.isEmpty {
      try? FileManager.default.createDirectory(atPath: folder.path + "/charts", withIntermediateDirectories: true)
      for c in charts {
        try folder.write(Data(c.svg.utf8), to: folder.path + "/charts/\(c.name).svg")
        try folder.write(Data(c.csv.utf8), to: folder.path + "/charts/\(c.name).csv")
      }
    }
    let html = ReportTemplate.render(view(design: design, file: file, settings: settings, charts: charts, folder: folder))
    let path = folder.path + "/report.html"
    try folder.write(Data(html.utf8), to: path)
    return path
  }

  static func threshold(_ design: RunDesign) -> Double { design.points.first?.scenario.attack?.threshold ?? 30 }

  /// What the page shows, read from the run folder.
  static func view(
    design: RunDesign, file: String, settings: [SettingSummary], charts: [ChartFile], folder: RunFolder
  ) -> ReportView {
    let attacked = settings.filter { $0.attacks > 0 }
    let tradeOff = PrivacyUtilityChart(attacked)
    // Each setting's first attacked update (first repeat), read once for the distance chart and the evolution.
    let firsts: [(setting: String, folder: RunFolder, attack: Reconstruction)] =
      attacked.isEmpty
      ? []
      : settings.enumerated().compactMap { k, s in
        let point = folder.point(k, repeat: 0)
        return point.firstReconstruction().map { (s.setting, point, $0) }
      }
    let curves = firsts.enumerated().map { n, f in
      ("\(f.setting) (\(f.attack.method.rawValue))", SVGChart.palette[n % SVGChart.palette.count], f.attack.history)
    }
    return ReportView(
      title: design.name, meta: RunMetadata.read(folder)?.line, repeats: design.repeats, threshold: Int(threshold(design)),
      rows: settings.map(ReportView.Row.init),
      leakageCharts: charts.first.map { first in
        ReportView.ChartBlock(
          heading: first.chart.data.isNumeric ? "Leakage against \(first.chart.data.axisTitle)" : "Leakage per setting",
          charts: charts.map { ReportView.Chart(name: $0.name, svg: $0.svg, csv: $0.csv) })
      },
      tradeOff: !attacked.isEmpty && tradeOff.isInformative ? tradeOff.render() : nil,
      distance: curves.isEmpty
        ? nil
        : SVGChart(title: "the attack's gradient distance (first repeat, first victim)", xLabels: nil, series: curves, logY: true).render(),
      evolution: evolution(firsts.compactMap { Evolution($0.attack, folder: $0.folder, setting: $0.setting) }),
      settings: settings.enumerated().map { k, setting in
        let groups = (0..<design.repeats).map { r in
          ReportView.TileGroup(
            label: "repeat \(r + 1)", tiles: ReportView.Tile.all(in: folder.point(k, repeat: r), repeat: r, repeats: design.repeats))
        }
        return ReportView.Setting(
          name: setting.setting, shown: groups.first.flatMap { $0.tiles.isEmpty ? nil : $0 },
          folded: groups.dropFirst().filter { !$0.tiles.isEmpty })
      },
      scenario: file)
  }

  /// The leakage charts of a sweep (PSNR with its threshold, SSIM), each with its data.
  static func leakageCharts(_ attacked: [SettingSummary], threshold: Double) -> [ChartFile] {
    let psnr = LeakageChart(data: SweepSeries(attacked) { $0.psnr }, metric: "PSNR of the reconstruction (dB)", threshold: threshold)
    var ssim = LeakageChart(data: SweepSeries(attacked) { $0.ssim }, metric: "SSIM of the reconstruction", threshold: nil)
    ssim.ceiling = 1
    return [
      .init(name: "psnr", chart: psnr, svg: psnr.render(), csv: psnr.data.csv(metric: "psnr")),
      .init(name: "ssim", chart: ssim, svg: ssim.render(), csv: ssim.data.csv(metric: "ssim")),
    ]
  }

  /// Each setting's evolution strip, and MSE against iteration for all of them on one chart.
  static func evolution(_ all: [Evolution]) -> ReportView.EvolutionBlock? {
    guard !all.isEmpty else { return nil }
    let chart = SVGChart(
      title: "MSE of the reconstruction against the truth (first repeat, first victim)", xLabels: nil,
      series: all.enumerated().map { ($1.setting, SVGChart.palette[$0 % SVGChart.palette.count], $1.mse.map(\.y)) }, logY: true,
      iterations: all.map { $0.mse.map { Int($0.x) } })
    return ReportView.EvolutionBlock(
      strips: all.map {
        ReportView.Strip(
          setting: $0.setting, picture: "data:image/png;base64," + Data($0.strip).base64EncodedString(),
          steps: $0.steps.map(String.init).joined(separator: ", "))
      }, mse: chart.render())
  }

  /// Text for SVG drawn by hand (the charts): `&`, `<`, `>` and `'` escaped.
  static func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "'", with: "&#39;")
  }
}
