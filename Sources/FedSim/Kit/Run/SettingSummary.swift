import FedSimCore
import Foundation

/// One row of the top summary: a defense setting, its leakage and what it cost.
public struct SettingSummary: Codable, Sendable {
  public struct Stat: Codable, Sendable {
    public var mean: Double
    public var std: Double
    /// How many values (absent in summaries written before it was kept).
    public var count: Int?
    init(_ values: [Double]) {
      let m = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
      mean = m
      std = values.count < 2 ? 0 : (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
      count = values.count
    }

    /// Whether a spread exists: two values or more.
    public var hasSpread: Bool { (count ?? 2) >= 2 }

    /// "45.83 ± 15.17" with `format` for each number, or "45.83 ± —" when one value has no
    /// spread; `scale` multiplies both (100 for percentages).
    public func text(_ format: String, scale: Double = 1) -> String {
      String(format: format, scale * mean) + " ± " + (hasSpread ? String(format: format, scale * std) : "—")
    }

    /// For a sentence: "45.83 ± 15.17", or "45.83" alone when one value has no spread.
    public func brief(_ format: String, scale: Double = 1) -> String {
      hasSpread ? text(format, scale: scale) : String(format: format, scale * mean)
    }
  }

  /// The leakage of the updates of one attacked round.
  public struct RoundLeakage: Codable, Sendable {
    public var round: Int
    public var attacks: Int
    public var psnr: Stat
    public var successRate: Double

    enum CodingKeys: String, CodingKey {
      case round, attacks, psnr
      case successRate = "success_rate"
    }
  }

  public var setting: String
  public var repeats: Int
  public var attacks: Int
  public var mse: Stat
  public var psnr: Stat
  public var ssim: Stat
  public var labelAccuracy: Stat
  public var successRate: Double
  public var attackSeconds: Stat
  /// Test accuracy after the last round (nil: no test set was kept).
  public var testAccuracy: Stat?
  /// Rounds that failed (kept the model) and updates missing or dropped, over the repeats.
  public var roundsFailed: Int
  public var updatesDropped: Int
  /// DP-SGD's ε (mean over repeats), when the setting uses DP-SGD.
  public var epsilon: Double?
  /// Iterations to success over the attacks that succeeded (nil: none did, or none said when).
  public var successIteration: Stat?
  /// Leakage per attacked round, in round order (a trained model leaks differently).
  public var byRound: [RoundLeakage]

  enum CodingKeys: String, CodingKey {
    case setting, repeats, attacks, mse, psnr, ssim, epsilon
    case labelAccuracy = "label_acc", successRate = "success_rate", attackSeconds = "attack_s"
    case testAccuracy = "test_accuracy", roundsFailed = "rounds_failed", updatesDropped = "updates_dropped"
    case successIteration = "success_iteration", byRound = "by_round"
  }

  init(setting: String, summaries: [RunSummary]) {
    let rows = summaries.flatMap(\.rows)
    self.setting = setting
    repeats = summaries.count
    attacks = rows.count
    mse = Stat(rows.map(\.mse))
    psnr = Stat(rows.map(\.psnr))
    ssim = Stat(rows.map(\.ssim))
    labelAccuracy = Stat(rows.map(\.labelAccuracy))
    successRate = rows.isEmpty ? 0 : Double(rows.filter(\.success).count) / Double(rows.count)
    attackSeconds = Stat(rows.map(\.attackSeconds))
    let accuracies = summaries.compactMap(\.testAccuracy)
    testAccuracy = accuracies.isEmpty ? nil : Stat(accuracies)
    roundsFailed = summaries.reduce(0) { $0 + $1.rounds.count - $1.roundsAggregated }
    updatesDropped = summaries.reduce(0) { $0 + $1.droppedUpdates }
    let eps = summaries.compactMap(\.epsilon)
    epsilon = eps.isEmpty ? nil : eps.reduce(0, +) / Double(eps.count)
    let reached = rows.filter(\.success).compactMap(\.successIteration).map(Double.init)
    successIteration = reached.isEmpty ? nil : Stat(reached)
    byRound = Dictionary(grouping: rows, by: \.round).sorted { $0.key < $1.key }.map { round, rows in
      RoundLeakage(
        round: round, attacks: rows.count, psnr: Stat(rows.map(\.psnr)),
        successRate: Double(rows.filter(\.success).count) / Double(rows.count))
    }
  }

  static let csvHeader = "setting,repeats,attacks,mse_mean,mse_std,psnr_mean,psnr_std,ssim_mean,ssim_std,label_acc_mean,label_acc_std,success_rate,attack_s_mean,attack_s_std,test_accuracy_mean,test_accuracy_std,epsilon,rounds_failed,updates_dropped,success_iteration_mean,success_iteration_std,first_round,first_round_psnr_mean,first_round_success_rate,last_round,last_round_psnr_mean,last_round_success_rate"

  var csvRow: String {
    let stats = [mse, psnr, ssim, labelAccuracy].flatMap { [$0.mean, $0.std] }
    return csvSettingField + ",\(repeats),\(attacks)," + stats.map { "\($0)" }.joined(separator: ",")
      + ",\(successRate),\(attackSeconds.mean),\(attackSeconds.std),"
      + (testAccuracy.map { "\($0.mean),\($0.std)," } ?? ",,") + (epsilon.map { "\($0)" } ?? "")
      + ",\(roundsFailed),\(updatesDropped)," + (successIteration.map { "\($0.mean),\($0.std)" } ?? ",")
      + "," + [byRound.first, byRound.last].map { r in r.map { "\($0.round),\($0.psnr.mean),\($0.successRate)" } ?? ",," }.joined(separator: ",")
  }

  /// The setting's label as a CSV field (quoted, quotes doubled).
  var csvSettingField: String { "\"" + setting.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

  /// "81.2% ± 1.0" or "no test set".
  var accuracyText: String {
    testAccuracy.map { String(format: "%.1f%%", 100 * $0.mean) + " ± " + ($0.hasSpread ? String(format: "%.1f", 100 * $0.std) : "—") } ?? "no test set"
  }

  var markdownRow: String {
    let eps = epsilon.map { String(format: "%.3g", $0) } ?? "—"
    let rounds = "\(roundsFailed) | \(updatesDropped)"
    if attacks == 0 {
      return "| \(setting) | — | — | — | — | no attack | — | — | \(accuracyText) | \(eps) | \(rounds) |"
    }
    let reached = successIteration.map { $0.text("%.0f") } ?? "—"
    return String(
      format: "| %@ | %@ | %@ | %@ | %.0f%% | %.0f%% of %d | %@ | %@ | %@ | %@ | %@ |",
      setting, psnr.text("%.2f"), ssim.text("%.4f"), mse.text("%.3g"), 100 * labelAccuracy.mean,
      100 * successRate, attacks, reached, attackSeconds.text("%.1f"), accuracyText, eps, rounds)
  }
}
