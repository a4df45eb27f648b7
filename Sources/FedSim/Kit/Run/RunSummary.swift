import FedSimCore
import Foundation

/// One point's outcome: a row per attacked update, the server's round records, and what went
/// wrong. What `summary.json`, `summary.csv` and `report.md` of a point hold.
public struct RunSummary: Codable, Sendable {
  public struct Row: Codable, Sendable {
    public var round: Int
    public var client: Int
    public var method: String
    public var defenses: String
    public var mse: Double
    public var psnr: Double
    public var ssim: Double
    public var labelAccuracy: Double
    public var success: Bool
    public var attackSeconds: Double
    /// The first snapshot iteration at which every image of the batch reached the success
    /// threshold (nil: it never did). Snapshots are about every 1/30 of the iterations.
    public var successIteration: Int?
    /// The batch's true labels, and the labels the attack recovered for them, in the same order.
    public var trueLabels: [Int]?
    public var recoveredLabels: [Int]?

    enum CodingKeys: String, CodingKey {
      case round, client, method, defenses, mse, psnr, ssim, success
      case labelAccuracy = "label_acc", attackSeconds = "attack_s", successIteration = "success_iteration"
      case trueLabels = "true_labels", recoveredLabels = "recovered_labels"
    }
  }

  public var scenario: String
  public var rows: [Row]
  public var rounds: [RoundRecord]
  /// Test accuracy after the last round (nil: the server kept no test set).
  public var testAccuracy: Double?
  /// The (ε, δ) DP-SGD spent, the largest over clients, when the scenario uses DP-SGD.
  public var epsilon: Double?
  public var delta: Double?
  /// What failed (a process, an unreadable reconstruction); empty when all went well.
  public var problems: [String]

  enum CodingKeys: String, CodingKey {
    case scenario, rows, rounds, epsilon, delta, problems
    case testAccuracy = "test_accuracy"
  }

  init(scenario: Scenario, rows: [Row], rounds: [RoundRecord], problems: [String]) {
    (self.scenario, self.rows, self.rounds, self.problems) = (scenario.name, rows, rounds, problems)
    testAccuracy = rounds.last?.testAccuracy
    epsilon = rounds.last?.epsilon
    delta = scenario.privacy.dpSGD?.delta
  }

  public var roundsAggregated: Int { rounds.filter { $0.outcome == .aggregated }.count }
  public var droppedUpdates: Int { rounds.reduce(0) { $0 + $1.dropped.filter { $0.client != nil }.count } }

  /// Why the run did not train at all (no round aggregated), with the last round's reasons.
  var noRoundAggregated: String? {
    guard roundsAggregated == 0 else { return nil }
    guard let last = rounds.last else { return "the server recorded no round" }
    let reasons = Set(last.dropped.map(\.reason)).sorted().prefix(3).joined(separator: "; ")
    return "none of the \(rounds.count) rounds was aggregated" + (reasons.isEmpty ? "" : " (round \(last.round): \(reasons))")
  }

  public func write(to folder: RunFolder) throws(RunFolderError) {
    try folder.writeJSON(self, to: folder.summary)
    var csv = "round,client,method,defenses,mse,psnr,ssim,label_acc,success,attack_s,success_iteration\n"
    for r in rows {
      csv += "\(r.round),\(r.client),\(r.method),\"\(r.defenses)\",\(r.mse),\(r.psnr),\(r.ssim),\(r.labelAccuracy),\(r.success),\(r.attackSeconds),"
        + (r.successIteration.map(String.init) ?? "") + "\n"
    }
    try folder.write(Data(csv.utf8), to: folder.path + "/summary.csv")
    try folder.write(Data(markdown.utf8), to: folder.path + "/report.md")
  }

  var markdown: String {
    var md = "# \(scenario)\n\n"
    md += testAccuracy.map { String(format: "Test accuracy after the last round: %.1f%%\n\n", 100 * $0) } ?? "No test set: test accuracy is not measured.\n\n"
    md += "Rounds aggregated: \(roundsAggregated) of \(rounds.count); updates missing or dropped: \(droppedUpdates).\n\n"
    for r in rounds where r.outcome == .failed || !r.dropped.isEmpty {
      md += "- Round \(r.round) \(r.outcome == .failed ? "failed" : "aggregated \(r.accepted.count) of \(r.selected.count)"): "
        + r.dropped.map { ($0.client.map { "client \($0)" } ?? "a peer") + ": " + $0.reason }.joined(separator: "; ") + "\n"
    }
    if rounds.contains(where: { $0.outcome == .failed || !$0.dropped.isEmpty }) { md += "\n" }
    if let e = epsilon, let d = delta { md += String(format: "DP-SGD spent ε = %.3g at δ = %.0e (largest over clients).\n\n", e, d) }
    for p in problems { md += "**Problem:** \(p)\n\n" }
    md += "| round | client | method | defenses | PSNR (dB) | SSIM | MSE | labels | recovered | attack (s) |\n"
    md += "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
    for r in rows {
      md += String(
        format: "| %d | %d | %@ | %@ | %.2f | %.4f | %.3g | %.0f%% | %@ | %.1f |\n", r.round, r.client, r.method,
        r.defenses, r.psnr, r.ssim, r.mse, 100 * r.labelAccuracy, r.success ? "yes" : "no", r.attackSeconds)
    }
    return md
  }
}
