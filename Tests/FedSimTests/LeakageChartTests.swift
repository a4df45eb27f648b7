@testable import FedSimKit
import FedSimCore
import Foundation
import Testing

/// The report's leakage charts: the axis the sweep calls for, error bars, the threshold, and
/// the data beside each chart.
@Suite("Leakage charts")
struct LeakageChartTests {
  /// A setting whose attacks gave `psnr` (one repeat, one row each).
  func setting(_ label: String, _ psnr: [Double]) throws -> SettingSummary {
    let scenario = try TestScenario.resolve("dataset: {path: shapes, count: 8}")
    let rows = psnr.map {
      RunSummary.Row(
        round: 1, client: 0, method: "dlg", defenses: "", mse: 0, psnr: $0, ssim: 0.5, labelAccuracy: 1, success: $0 >= 30,
        attackSeconds: 1, successIteration: nil)
    }
    return SettingSummary(setting: label, summaries: [RunSummary(scenario: scenario, rows: rows, rounds: [], problems: [])])
  }

  /// The text of every element of `svg` with `class='name'`.
  func texts(_ svg: String, class name: String) -> [String] {
    svg.components(separatedBy: "class='\(name)'").dropFirst().compactMap { part in
      guard let open = part.firstIndex(of: ">"), let close = part.firstIndex(of: "<") else { return nil }
      return String(part[part.index(after: open)..<close])
    }
  }

  @Test("a noise sweep over decades gets a log axis at the decades, 0 in its own slot, error bars and the threshold")
  func logAxis() throws {
    let settings = try [0, 0.0001, 0.001, 0.01, 0.1].map { try setting("gaussian_noise=\($0)", [50 - 400 * $0, 44 - 400 * $0]) }
    let data = SweepSeries(settings) { $0.psnr }
    #expect(data.isNumeric && data.isLogarithmic && data.key == "gaussian_noise")
    let chart = LeakageChart(data: data, metric: "PSNR (dB)", threshold: 30)
    let svg = chart.render()
    #expect(texts(svg, class: "xtick") == ["off (0)", "0.0001", "0.001", "0.01", "0.1"])
    #expect(svg.components(separatedBy: "class='errorbar'").count - 1 == 5)
    #expect(svg.contains("class='threshold'") && svg.contains("recovered: ≥ 30 dB"))
    #expect(svg.contains("Gaussian noise σ") && svg.contains("log scale"))
    // Positions grow with the value, and 0 sits left of the smallest.
    let x = chart.xAxis()
    let positions = [0, 0.0001, 0.001, 0.01, 0.1].map(x.position)
    #expect(zip(positions, positions.dropFirst()).allSatisfy { $0 < $1 })
    // The y axis ticks at round values covering mean ± std and the threshold.
    #expect(chart.yAxis.ticks.allSatisfy { $0.truncatingRemainder(dividingBy: 10) == 0 })
  }

  @Test("a sweep within one decade gets a linear axis; one repeat draws no error bars")
  func linearAxis() throws {
    let settings = try [0.2, 0.5, 0.9].map { try setting("prune=\($0)", [40 - 20 * $0]) }
    let data = SweepSeries(settings) { $0.psnr }
    #expect(data.isNumeric && !data.isLogarithmic)
    let svg = LeakageChart(data: data, metric: "PSNR (dB)", threshold: 30).render()
    #expect(texts(svg, class: "xtick") == ["0.2", "0.4", "0.6", "0.8", "1"])
    #expect(!svg.contains("class='errorbar'") && !svg.contains("± 1 std"))
  }

  @Test("attack methods are categories: a bar chart, one bar each, with the data as CSV")
  func bars() throws {
    let settings = try [("dlg", [45.0, 20]), ("idlg", [50, 48]), ("wdlg", [46, 22])].map { try setting("attack_method=\($0.0)", $0.1) }
    let data = SweepSeries(settings) { $0.psnr }
    #expect(!data.isNumeric)
    let svg = LeakageChart(data: data, metric: "PSNR (dB)", threshold: 30).render()
    #expect(svg.components(separatedBy: "class='bar'").count - 1 == 3 && !svg.contains("class='series'"))
    #expect(texts(svg, class: "xtick") == ["dlg", "idlg", "wdlg"])
    let csv = data.csv(metric: "psnr").split(separator: "\n")
    #expect(csv.first == "series,attack_method,psnr_mean,psnr_std,attacks" && csv.count == 4)
    #expect(csv[2].hasPrefix("attack_method,idlg,49.0,1.41"))
  }

  @Test("combine: each draws one series per key, the base as a reference line; dataset paths shortened")
  func each() throws {
    let settings = try [setting("base", [50]), setting("clip=1.0", [40]), setting("clip=0.1", [20]), setting("prune=0.5", [45])]
    let data = SweepSeries(settings) { $0.psnr }
    #expect(data.series.map(\.name) == ["clip", "prune"] && data.reference?.mean == 50 && !data.isNumeric)
    #expect(LeakageChart(data: data, metric: "PSNR", threshold: nil).render().contains("class='reference'"))
    #expect(LeakageChart.short("../shared/data/cifar-100/test.bin") == "cifar-100")
  }
}

@Suite("Distance chart")
struct DistanceChartTests {
  @Test("a log axis ticks at whole decades, labelled as powers of ten")
  func decades() {
    let svg = SVGChart(title: "d", xLabels: nil, series: [("a", "#000", [900, 12, 0.5, 0.004])], logY: true).render()
    let ticks = svg.components(separatedBy: "class='ytick'").dropFirst().compactMap { $0.split(separator: ">").dropFirst().first?.split(separator: "<").first }
    #expect(ticks == ["10⁻³", "10⁻²", "10⁻¹", "10⁰", "10¹", "10²", "10³"])
    #expect(SVGChart.power(-12) == "10⁻¹²")
  }
}
