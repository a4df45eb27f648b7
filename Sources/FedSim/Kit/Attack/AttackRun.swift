import FedData
import FedSimCore
import Adversary
import Foundation
import Tensors

/// What `metrics.json` holds for one attack: how it ran and, when the update carries the private
/// batch, how much it leaked.
public struct AttackMetrics: Sendable, Codable {
  public var method: AttackMethod
  public var iterations: Int
  public var evaluations: Int
  public var wallSeconds: Double
  public var batch: Int
  public var restarts: Int
  /// Starts run (at most `restarts`) and the one kept (0-based).
  public var starts: Int
  public var keptStart: Int
  public var seed: UInt64
  /// The attack's own objective at the kept point.
  public var distance: Double
  public var recoveries: Int
  public var labels: [Int]
  /// Leakage, when the ground truth is known (nil otherwise).
  public var mse: Double?
  public var psnr: Double?
  public var ssim: Double?
  public var labelAccuracy: Double?
  public var success: Bool?
  public var recovered: Int?
  public var threshold: Double
  /// The first iteration at which every image was at or above the threshold.
  public var successIteration: Int?
  public var trueLabels: [Int]?

  enum CodingKeys: String, CodingKey {
    case method, iterations, evaluations, batch, restarts, starts, seed, distance, recoveries, labels
    case keptStart = "kept_start"
    case mse, psnr, ssim, success, recovered, threshold
    case wallSeconds = "wall_s", labelAccuracy = "label_acc", successIteration = "success_iteration"
    case trueLabels = "true_labels"
  }

  /// One line for the terminal.
  public var summary: String {
    var s = "\(method.rawValue): "
    if let psnr, let ssim, let mse, let labelAccuracy, let success, let recovered {
      s += String(format: "PSNR %.2f dB, SSIM %.4f, MSE %.3g, labels %.0f%%, ", psnr, ssim, mse, 100 * labelAccuracy)
      s += success ? "recovered" : "\(recovered)/\(batch) recovered"
      if let successIteration { s += " (≥ \(Int(threshold)) dB from iteration \(successIteration))" }
      s += "; "
    } else {
      s += "labels \(labels); "
    }
    s += String(format: "%d iterations, %d evaluations in %.2f s", iterations, evaluations, wallSeconds)
    if starts > 1 { s += ", kept start \(keptStart + 1) of \(starts)" }
    if recoveries > 0 { s += ", \(recoveries) optimiser recover\(recoveries == 1 ? "y" : "ies")" }
    return s
  }
}

/// Runs an attack on a recorded update and writes what it found: `metrics.json`, `history.csv`
/// (distance, and MSE and PSNR when the truth is known, per iteration), `reconstruction.png`
/// (truth above reconstruction), `history.png` (snapshots), `timeline.png` (the snapshots as an
/// animated PNG), `convergence.svg` and `reconstruction.safetensors`.
public enum AttackRun {
  /// What the attack did at each iteration of the start it kept.
  public struct Trace: Sendable {
    public var distance: [Double] = []
    public var mse: [Double] = []
    public var minimumPSNR: [Double] = []
    public var snapshots: [(iteration: Int, images: Tensor)] = []
  }

  /// The attack optimises in the model's input space (normalised when the model's input is) and
  /// is scored, pictured and stored as pixels in [0, 1]: `update.pixels` of both sides.
  public static func run(
    update: RecordedUpdate, configuration: AttackConfiguration, threshold: Double = 30,
    snapshotEvery: Int? = nil, progress: (AttackProgress) -> Void = { _ in }
  ) throws(RGAPError) -> (metrics: AttackMetrics, result: AttackResult, trace: Trace) {
    let every = snapshotEvery ?? Swift.max(10, (configuration.iterations / 30 + 9) / 10 * 10)
    let inversion = GradientInversion(
      model: update.model, sharedGradient: update.gradient, inputShape: update.inputShape,
      classes: update.spec.classes)
    var traces = [Trace](repeating: Trace(), count: configuration.restarts)
    let truth = update.input.map(update.pixels)
    var configuration = configuration
    configuration.pixelRange = update.spec.inputRange
    var result = try inversion.attack(configuration) { p in
      var t = traces[p.trial]
      t.distance.append(p.distance)
      let seen = update.pixels(p.reconstruction)
      if let truth {
        let images = Leakage.matchedMSE(reconstruction: seen, truth: truth)
        t.mse.append(images.reduce(0, +) / Double(images.count))
        t.minimumPSNR.append(images.map { Leakage.psnr(mse: $0) }.min()!)
      }
      if p.iteration % every == 0 || p.iteration == configuration.iterations {
        t.snapshots.append((p.iteration, seen))
      }
      traces[p.trial] = t
      progress(p)
    }
    let trace = traces[result.keptTrial]
    result.reconstruction = update.pixels(result.reconstruction)
    var metrics = AttackMetrics(
      method: configuration.method, iterations: result.iterations, evaluations: result.evaluations,
      wallSeconds: result.wallSeconds, batch: update.batch, restarts: configuration.restarts,
      starts: result.starts, keptStart: result.keptTrial, seed: configuration.seed, distance: result.distance, recoveries: result.recoveries,
      labels: result.labels, threshold: threshold, trueLabels: update.labels)
    if let truth {
      let score = Leakage.score(
        reconstruction: result.reconstruction, truth: truth, labels: result.labels,
        trueLabels: update.labels ?? result.labels, threshold: threshold)
      metrics.mse = score.mse
      metrics.psnr = score.psnr
      metrics.ssim = score.ssim
      metrics.labelAccuracy = update.labels == nil ? nil : score.labelAccuracy
      metrics.success = score.success
      metrics.recovered = score.recovered
      metrics.successIteration = trace.minimumPSNR.firstIndex { $0 >= threshold }
    }
    return (metrics, result, trace)
  }

  /// The files `write` puts in its folder.
  public static let outputs = [
    "metrics.json", "history.csv", "reconstruction.png", "history.png", "timeline.png", "convergence.svg",
    "reconstruction.safetensors",
  ]

  /// Writes the run's files into `directory` (created if needed); each file appears whole or not
  /// at all.
  public static func write(
    _ metrics: AttackMetrics, _ result: AttackResult, _ trace: Trace, update: RecordedUpdate,
    to directory: String
  ) throws {
    let fm = FileManager.default
    try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
    func put(_ name: String, _ data: Data) throws {
      precondition(outputs.contains(name), "\(name) is not in AttackRun.outputs")
      try FileOutput.write(data, to: URL(fileURLWithPath: directory).appendingPathComponent(name).path)
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try put("metrics.json", try encoder.encode(metrics) + Data("\n".utf8))

    var csv = "iteration,distance" + (trace.mse.isEmpty ? "" : ",mse,min_psnr") + "\n"
    for (i, d) in trace.distance.enumerated() {
      csv += "\(i),\(d)"
      if i < trace.mse.count { csv += ",\(trace.mse[i]),\(trace.minimumPSNR[i])" }
      csv += "\n"
    }
    try put("history.csv", Data(csv.utf8))

    let size = update.spec.imageSize
    let scale = Swift.max(1, 96 / size)
    var rows: [Tensor] = []
    var recon = result.reconstruction
    let truth = update.input.map(update.pixels)
    if let truth {
      let order = Leakage.assignment(reconstruction: recon, truth: truth)
      recon = concat(order.map { recon.sliced(alongAxis: 0, $0..<($0 + 1)) }, alongAxis: 0)
      rows.append(truth)
    }
    rows.append(recon)
    try put("reconstruction.png", Data(Pictures.grid(rows: rows, scale: scale, columns: Swift.min(update.batch, 16))))

    // Snapshots: one row per image of the batch (at most 8), one column per snapshot.
    let shown = Swift.min(update.batch, 8)
    let strip = (0..<shown).map { b in
      concat(trace.snapshots.map { $0.images.sliced(alongAxis: 0, b..<(b + 1)) }, alongAxis: 0)
    }
    try put("history.png", Data(Pictures.grid(rows: strip, scale: Swift.max(1, 64 / size))))

    try put("timeline.png", Data(Pictures.timeline(trace.snapshots.map(\.images), truth: truth, scale: Swift.max(1, 96 / size))))

    var panels = [
      LineChart.Panel(
        title: "gradient distance (\(metrics.method.distance.rawValue))",
        points: trace.distance.enumerated().map { (Double($0.offset), $0.element) }, colour: "#1f77b4")
    ]
    if !trace.mse.isEmpty {
      panels.append(
        LineChart.Panel(
          title: "image MSE against the truth",
          points: trace.mse.enumerated().map { (Double($0.offset), $0.element) }, colour: "#d62728"))
    }
    try put("convergence.svg", Data(LineChart(panels: panels, xLabel: "iteration").svg().utf8))

    try SafetensorsFile(
      tensors: [
        "reconstruction": result.reconstruction,
        "labels": Tensor(shape: [result.labels.count], scalars: result.labels.map(Float.init)),
      ],
      metadata: ["method": metrics.method.rawValue, "iterations": "\(metrics.iterations)"]
    ).write(to: directory + "/reconstruction.safetensors")
  }
}
