import Adversary
import Foundation
import Tensors

/// `fedsim run`: starts the server, the clients and the adversary as separate processes, watches
/// them, scores every reconstruction against the ground truth the clients kept, and writes the
/// summary. Any failure, and Ctrl-C, stops every child.
public final class Launcher: @unchecked Sendable {
  public let scenario: Scenario
  public let folder: RunFolder
  /// Where `fed-server`, `fed-client` and `fed-adversary` are (beside `fedsim` by default).
  public let binaries: String
  public let log: EventLog
  private var children: [(name: String, process: Process)] = []
  private let lock = NSLock()

  public init(scenario: Scenario, folder: RunFolder, binaries: String) throws {
    self.scenario = scenario.resolved()
    self.folder = folder
    self.binaries = binaries
    try folder.create()
    try folder.writeJSON(self.scenario, to: folder.scenario)
    log = EventLog(path: folder.events("launcher"), role: "launcher")
  }

  /// Runs the scenario's processes to the end and returns the summary.
  public func run(progress: (String) -> Void = { _ in }) throws -> RunSummary {
    let s = scenario
    defer { stopAll() }
    try? FileManager.default.removeItem(atPath: folder.endpoints)
    let server = try start("fed-server", [folder.path])
    let waitStart = Date()
    while !FileManager.default.fileExists(atPath: folder.endpoints) {
      guard server.isRunning else { throw FederationError.failed("fed-server exited (status \(server.terminationStatus)) before listening; see \(folder.events("server"))") }
      guard Date().timeIntervalSince(waitStart) < 30 else { throw FederationError.failed("fed-server did not listen within 30 s") }
      Thread.sleep(forTimeInterval: 0.02)
    }
    progress("server listening; starting \(s.federation!.clients!) clients" + (s.attack == nil ? "" : " and the adversary"))
    for c in 0..<s.federation!.clients! { _ = try start("fed-client-\(c)", [folder.path, "\(c)"], binary: "fed-client") }
    let adversary = s.attack == nil ? nil : try start("fed-adversary", [folder.path])

    let f = s.federation!
    let limit = Date().addingTimeInterval(f.deadline! * Double(f.rounds! + 2) + 60)
    while server.isRunning {
      guard Date() < limit else { throw FederationError.failed("fed-server did not finish in time") }
      Thread.sleep(forTimeInterval: 0.05)
    }
    guard server.terminationStatus == 0 else {
      throw FederationError.failed("fed-server failed (status \(server.terminationStatus)); see \(folder.events("server"))")
    }
    progress("rounds finished")
    if let adversary {
      let attackLimit = Date().addingTimeInterval(3600)
      while adversary.isRunning && Date() < attackLimit { Thread.sleep(forTimeInterval: 0.05) }
      guard !adversary.isRunning, adversary.terminationStatus == 0 else {
        throw FederationError.failed("fed-adversary failed; see \(folder.events("adversary"))")
      }
    }
    let summary = try RunSummary.score(folder: folder, scenario: s)
    try summary.write(to: folder)
    log.log("finished")
    return summary
  }

  private func start(_ name: String, _ arguments: [String], binary: String? = nil) throws -> Process {
    let path = binaries + "/" + (binary ?? name)
    guard FileManager.default.isExecutableFile(atPath: path) else {
      throw FederationError.failed("\(path) is not built: build every product first (swift build -c release)")
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    let errors = FileManager.default.createFile(atPath: folder.path + "/events/\(name).stderr", contents: nil)
    if errors { p.standardError = FileHandle(forWritingAtPath: folder.path + "/events/\(name).stderr") }
    p.standardOutput = FileHandle.nullDevice
    do { try p.run() } catch { throw FederationError.failed("cannot start \(p.executableURL!.path): \(error)") }
    lock.lock()
    children.append((name, p))
    lock.unlock()
    log.log("started", ["process": name, "pid": Int(p.processIdentifier)])
    return p
  }

  /// Terminates every child still running (SIGTERM, then SIGKILL after a second).
  public func stopAll() {
    lock.lock()
    let running = children.filter { $0.process.isRunning }
    lock.unlock()
    for c in running { c.process.terminate() }
    let end = Date().addingTimeInterval(1)
    while running.contains(where: { $0.process.isRunning }) && Date() < end { Thread.sleep(forTimeInterval: 0.02) }
    for c in running where c.process.isRunning { kill(c.process.processIdentifier, SIGKILL) }
  }
}

/// One row per attacked update, and their means: what `summary.json`, `summary.csv` and
/// `report.md` hold.
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

    enum CodingKeys: String, CodingKey {
      case round, client, method, defenses, mse, psnr, ssim, success
      case labelAccuracy = "label_acc", attackSeconds = "attack_s"
    }
  }

  public var scenario: String
  public var rows: [Row]
  public var testAccuracy: Double?
  /// The (ε, δ) DP-SGD spent, the largest over clients, when the scenario uses DP-SGD.
  public var epsilon: Double?
  public var delta: Double?

  enum CodingKeys: String, CodingKey {
    case scenario, rows, epsilon, delta
    case testAccuracy = "test_accuracy"
  }

  /// Pairs each reconstruction in the folder with the truth its client kept.
  public static func score(folder: RunFolder, scenario: Scenario) throws -> RunSummary {
    let s = scenario.resolved()
    var rows: [Row] = []
    let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path + "/reconstructions")) ?? []
    for name in files.sorted() where name.hasSuffix(".safetensors") {
      let file = try SafetensorsFile(contentsOf: folder.path + "/reconstructions/" + name)
      let round = Int(file.metadata["round"] ?? "") ?? 0
      let client = Int(file.metadata["client"] ?? "") ?? 0
      let (truthImages, trueLabels) = try truth(folder: folder, round: round, file: file)
      let labels = try file.tensor("labels").scalars.map { Int($0) }
      let score = Leakage.score(
        reconstruction: try file.tensor("reconstruction"), truth: truthImages, labels: labels,
        trueLabels: trueLabels, threshold: s.attack?.threshold ?? 30)
      rows.append(
        Row(
          round: round, client: client, method: file.metadata["method"] ?? "?",
          defenses: s.defenses!.isEmpty ? "none" : s.defenses!.map(\.label).joined(separator: ", "),
          mse: score.mse, psnr: score.psnr, ssim: score.ssim, labelAccuracy: score.labelAccuracy,
          success: score.success, attackSeconds: Double(file.metadata["wall_s"] ?? "") ?? 0))
    }
    var accuracy: Double?
    if let data = try? Data(contentsOf: URL(fileURLWithPath: folder.path + "/accuracy.json")),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Double]
    {
      accuracy = object["test_accuracy"]
    }
    var summary = RunSummary(scenario: s.name!, rows: rows, testAccuracy: accuracy)
    if let dp = s.dpSgd {
      summary.epsilon = try epsilon(folder: folder, scenario: s, dp: dp)
      summary.delta = dp.delta
    }
    return summary
  }

  /// DP-SGD's ε per client from the RDP accountant: sampling rate batch/n over the steps the
  /// client took in the rounds it was selected for (server events); the largest over clients.
  /// Batches are drawn without replacement, which the Poisson-sampling analysis approximates.
  static func epsilon(folder: RunFolder, scenario s: Scenario, dp: DPSGD) throws -> Double {
    let setup = try FederationSetup(s)
    let f = s.federation!
    let text = (try? String(contentsOfFile: folder.events("server"), encoding: .utf8)) ?? ""
    var rounds = [Int](repeating: 0, count: f.clients!)
    for line in text.split(separator: "\n") {
      guard let e = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
        e["event"] as? String == "round_started", let selected = e["selected"] as? [Int]
      else { continue }
      for c in selected where c < rounds.count { rounds[c] += 1 }
    }
    return (0..<f.clients!).map { c in
      let n = Swift.max(1, setup.clientIndices[c].count)
      let b = Swift.min(f.localBatch!, n)
      let perRound = f.algorithm == "fedsgd" ? 1 : f.epochs! * ((n + b - 1) / b)
      return RDPAccountant.epsilon(q: Double(b) / Double(n), sigma: dp.noiseMultiplier!, steps: perRound * rounds[c], delta: dp.delta!).epsilon
    }.max() ?? 0
  }

  /// The private batch behind a reconstruction: one client's, or under secure aggregation
  /// (client −1) every aggregated client's, in client order.
  static func truth(folder: RunFolder, round: Int, file: SafetensorsFile) throws -> (Tensor, [Int]) {
    let clients = (file.metadata["clients"] ?? file.metadata["client"] ?? "0").split(separator: ",").compactMap { Int($0) }
    let parts = try clients.map { try RecordedUpdate(contentsOf: folder.truth(round: round, client: $0)) }
    return (concat(parts.map { $0.input! }, alongAxis: 0), parts.flatMap { $0.labels! })
  }

  public func write(to folder: RunFolder) throws {
    try folder.writeJSON(self, to: folder.path + "/summary.json")
    var csv = "round,client,method,defenses,mse,psnr,ssim,label_acc,success,attack_s\n"
    for r in rows {
      csv += "\(r.round),\(r.client),\(r.method),\"\(r.defenses)\",\(r.mse),\(r.psnr),\(r.ssim),\(r.labelAccuracy),\(r.success),\(r.attackSeconds)\n"
    }
    try folder.write(Data(csv.utf8), to: folder.path + "/summary.csv")
    var md = "# \(scenario)\n\n"
    if let a = testAccuracy { md += String(format: "Test accuracy after the last round: %.1f%%\n\n", 100 * a) }
    if let e = epsilon, let d = delta { md += String(format: "DP-SGD spent ε = %.3g at δ = %.0e (largest over clients).\n\n", e, d) }
    md += "| round | client | method | defenses | PSNR (dB) | SSIM | MSE | labels | recovered | attack (s) |\n"
    md += "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
    for r in rows {
      md += String(
        format: "| %d | %d | %@ | %@ | %.2f | %.4f | %.3g | %.0f%% | %@ | %.1f |\n", r.round, r.client, r.method,
        r.defenses, r.psnr, r.ssim, r.mse, 100 * r.labelAccuracy, r.success ? "yes" : "no", r.attackSeconds)
    }
    try folder.write(Data(md.utf8), to: folder.path + "/report.md")
    try writeGrid(to: folder)
  }

  /// `grid.png`: for each attacked update, its true images above their reconstructions.
  func writeGrid(to folder: RunFolder) throws {
    var rows: [Tensor] = []
    for pair in gridRows(folder) { rows += pair }
    guard let first = rows.first else { return }
    let columns = rows.map { $0.shape[0] }.max()!
    try folder.write(Data(Pictures.grid(rows: rows, scale: Swift.max(1, 64 / first.shape[2]), columns: columns)), to: folder.path + "/grid.png")
  }

  private func gridRows(_ folder: RunFolder) -> [[Tensor]] {
    self.rows.compactMap { row in
      guard let file = try? SafetensorsFile(contentsOf: folder.reconstruction(round: row.round, client: row.client)),
        let recon = try? file.tensor("reconstruction"),
        let truth = try? Self.truth(folder: folder, round: row.round, file: file).0
      else { return nil }
      let order = Leakage.assignment(reconstruction: recon, truth: truth)
      return [truth, concat(order.map { recon.sliced(alongAxis: 0, $0..<($0 + 1)) }, alongAxis: 0)]
    }
  }
}
