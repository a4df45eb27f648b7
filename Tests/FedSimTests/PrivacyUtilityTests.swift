@testable import FedSimKit
import FedSimCore
import Foundation
import Testing

/// The price of a defense as summaries and the report show it: leakage per attacked round, and
/// the privacy–utility chart's curves.
@Suite("Privacy against utility")
struct PrivacyUtilityTests {
  /// A setting's summary: one repeat whose rows are `(round, psnr)` and whose model ends at
  /// `accuracy`.
  func setting(_ label: String, accuracy: Double, rows: [(Int, Double)]) throws -> SettingSummary {
    let scenario = try TestScenario.resolve("dataset: {path: shapes, count: 8}")
    let summaryRows = rows.map { r in
      RunSummary.Row(
        round: r.0, client: 0, method: "dlg", defenses: "", mse: 0, psnr: r.1, ssim: 0, labelAccuracy: 1, success: r.1 >= 30,
        attackSeconds: 1, successIteration: nil)
    }
    let record = RoundRecord(round: 3, selected: [0], accepted: [0], dropped: [], outcome: .aggregated, testAccuracy: accuracy, epsilon: nil)
    return SettingSummary(setting: label, summaries: [RunSummary(scenario: scenario, rows: summaryRows, rounds: [record], problems: [])])
  }

  @Test("leakage is kept per attacked round, and the report tables the first against the last")
  func byRound() throws {
    let s = try setting("base", accuracy: 0.9, rows: [(1, 40), (1, 50), (3, 10), (3, 20)])
    #expect(s.byRound.map(\.round) == [1, 3])
    #expect(s.byRound.map(\.psnr.mean) == [45, 15])
    #expect(s.byRound.map(\.successRate) == [1, 0])
    #expect(s.csvRow.hasSuffix(",1,45.0,1.0,3,15.0,0.0"))
    let top = TopSummary(design: RunDesign(name: "t", repeats: 1, points: []), folder: RunFolder("/nonexistent"), settings: [s])
    #expect(top.byRoundTable.contains("| base | 45.00 ± 7.07 | 100% | 15.00 ± 7.07 | 0% | 90.0% ± — |"))
  }

  @Test("one curve per defense, in sweep order, from the undefended run")
  func curves() throws {
    let settings = try [
      setting("base", accuracy: 0.9, rows: [(1, 50)]),
      setting("gaussian_noise=0.01", accuracy: 0.88, rows: [(1, 20)]),
      setting("gaussian_noise=0.1", accuracy: 0.6, rows: [(1, 8)]),
      setting("prune=0.9", accuracy: 0.89, rows: [(1, 30)]),
    ]
    let chart = PrivacyUtilityChart(settings)
    #expect(chart.curves.map(\.name) == ["gaussian_noise", "prune"])
    #expect(chart.curves[0].points.map(\.label) == ["0.01", "0.1"])
    #expect(chart.curves[0].points.map(\.accuracy) == [88, 60])
    #expect(chart.undefended?.psnr == 50)
    let svg = chart.render()
    #expect(svg.components(separatedBy: "<polyline").count == 3)
    #expect(svg.contains(">no defense</text>") && svg.contains(">gaussian_noise</text>"))
  }

  @Test("axes tick at round values that cover the data")
  func niceTicks() {
    let a = NiceAxis(low: 61.3, high: 89.8)
    #expect(a.ticks == [60, 70, 80, 90])
    let b = NiceAxis(low: 0, high: 54.2)
    #expect(b.ticks == [0, 20, 40, 60])
    #expect(NiceAxis.text(0.30000000000000004) == "0.3")
  }
}
