import Foundation
import Tensors

/// A whole `fedsim run`: every point of the scenario's sweep, each repeated, each in its own
/// folder (`points/p<k>-r<r>`) with its own processes. A point whose `summary.json` exists is
/// finished, so `--resume` runs only what is missing. The top folder gets one row per setting.
public final class RunPlan: @unchecked Sendable {
  public let scenario: Scenario
  public let folder: RunFolder
  public let binaries: String
  private var current: Launcher?
  private let lock = NSLock()
  /// Called as each point starts (its folder and label), e.g. by the live view.
  public var onPoint: ((RunFolder, String) -> Void)?

  /// A new run of `scenario` into `folder`.
  public init(scenario: Scenario, folder: RunFolder, binaries: String) throws {
    // Never mix two runs, nor overwrite one: a folder that holds a run is finished with --resume.
    if FileManager.default.fileExists(atPath: folder.scenario) {
      throw FederationError.failed("\(folder.path) already holds a run: finish it with --resume \(folder.path), or choose another --out")
    }
    self.scenario = scenario.resolved()
    self.folder = folder
    self.binaries = binaries
    try folder.create()
    try folder.writeJSON(self.scenario, to: folder.scenario)
  }

  /// The interrupted run in `folder`, to finish.
  public init(resuming folder: RunFolder, binaries: String) throws {
    guard FileManager.default.fileExists(atPath: folder.scenario) else {
      throw FederationError.failed("\(folder.path) has no scenario.json: not a run folder")
    }
    scenario = try folder.readScenario()
    self.folder = folder
    self.binaries = binaries
  }

  public func pointFolder(_ point: Int, repeat r: Int) -> RunFolder { RunFolder(folder.path + "/points/p\(point)-r\(r)") }

  public func run(progress: (String) -> Void = { _ in }) throws -> [SettingSummary] {
    let points = scenario.points()
    var settings: [SettingSummary] = []
    for (k, point) in points.enumerated() {
      var summaries: [RunSummary] = []
      for r in 0..<scenario.repeats! {
        let sub = pointFolder(k, repeat: r)
        let done = sub.path + "/summary.json"
        if let data = try? Data(contentsOf: URL(fileURLWithPath: done)), let s = try? JSONDecoder().decode(RunSummary.self, from: data) {
          progress("point \(k + 1)/\(points.count) (\(point.label)) repeat \(r + 1): finished before, kept")
          summaries.append(s)
          continue
        }
        try? FileManager.default.removeItem(atPath: sub.path)  // a partial point starts over
        var s = point.scenario
        s.seed = scenario.seed! &+ UInt64(r)
        progress("point \(k + 1)/\(points.count) (\(point.label)) repeat \(r + 1)/\(scenario.repeats!)")
        let launcher = try Launcher(scenario: s, folder: sub, binaries: binaries)
        onPoint?(sub, point.label + (scenario.repeats! > 1 ? " (repeat \(r + 1))" : ""))
        lock.withLock { current = launcher }
        summaries.append(try launcher.run(progress: { progress("  " + $0) }))
        lock.withLock { current = nil }
      }
      settings.append(SettingSummary(setting: point.label, summaries: summaries))
      try write(settings)
    }
    return settings
  }

  /// Stops the processes of the point running now.
  public func stopAll() { lock.withLock { current }?.stopAll() }

  func write(_ settings: [SettingSummary]) throws {
    try folder.writeJSON(settings, to: folder.path + "/summary.json")
    var csv = SettingSummary.csvHeader + "\n"
    for s in settings { csv += s.csvRow + "\n" }
    try folder.write(Data(csv.utf8), to: folder.path + "/summary.csv")
    var md = "# \(scenario.name!)\n\nLeakage per defense setting: mean ± std over \(scenario.repeats!) repeat(s) and the attacked updates.\n\n"
    md += "| setting | PSNR (dB) | SSIM | MSE | label acc. | recovered | attack (s) | test accuracy | DP ε |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
    for s in settings { md += s.markdownRow + "\n" }
    md += "\nTruth above reconstruction, first repeat of each setting:\n\n"
    for (k, s) in settings.enumerated() where FileManager.default.fileExists(atPath: pointFolder(k, repeat: 0).path + "/grid.png") {
      md += "- \(s.setting)\n\n  ![\(s.setting)](points/p\(k)-r0/grid.png)\n\n"
    }
    try folder.write(Data(md.utf8), to: folder.path + "/report.md")
    try HTMLReport.write(folder: folder)
  }
}

/// One row of the top summary: a defense setting, its leakage and what it cost.
public struct SettingSummary: Codable, Sendable {
  public struct Stat: Codable, Sendable {
    public var mean: Double
    public var std: Double
    init(_ values: [Double]) {
      let m = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
      mean = m
      std = values.count < 2 ? 0 : (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
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
  public var testAccuracy: Stat
  /// DP-SGD's ε (mean over repeats), when the setting uses DP-SGD.
  public var epsilon: Double?

  enum CodingKeys: String, CodingKey {
    case setting, repeats, attacks, mse, psnr, ssim, epsilon
    case labelAccuracy = "label_acc", successRate = "success_rate", attackSeconds = "attack_s"
    case testAccuracy = "test_accuracy"
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
    testAccuracy = Stat(summaries.compactMap(\.testAccuracy))
    let eps = summaries.compactMap(\.epsilon)
    epsilon = eps.isEmpty ? nil : eps.reduce(0, +) / Double(eps.count)
  }

  static let csvHeader = "setting,repeats,attacks,mse_mean,mse_std,psnr_mean,psnr_std,ssim_mean,ssim_std,label_acc_mean,label_acc_std,success_rate,attack_s_mean,attack_s_std,test_accuracy_mean,test_accuracy_std,epsilon"

  var csvRow: String {
    let stats = [mse, psnr, ssim, labelAccuracy].flatMap { [$0.mean, $0.std] }
    return "\"\(setting)\",\(repeats),\(attacks)," + stats.map { "\($0)" }.joined(separator: ",")
      + ",\(successRate),\(attackSeconds.mean),\(attackSeconds.std),\(testAccuracy.mean),\(testAccuracy.std),"
      + (epsilon.map { "\($0)" } ?? "")
  }

  var markdownRow: String {
    if attacks == 0 {
      return String(
        format: "| %@ | — | — | — | — | no attack | — | %.1f%% ± %.1f | %@ |", setting, 100 * testAccuracy.mean,
        100 * testAccuracy.std, epsilon.map { String(format: "%.3g", $0) } ?? "—")
    }
    return String(
      format: "| %@ | %.2f ± %.2f | %.4f ± %.4f | %.3g ± %.2g | %.0f%% | %.0f%% of %d | %.1f ± %.1f | %.1f%% ± %.1f | %@ |",
      setting, psnr.mean, psnr.std, ssim.mean, ssim.std, mse.mean, mse.std, 100 * labelAccuracy.mean,
      100 * successRate, attacks, attackSeconds.mean, attackSeconds.std, 100 * testAccuracy.mean, 100 * testAccuracy.std,
      epsilon.map { String(format: "%.3g", $0) } ?? "—")
  }
}
