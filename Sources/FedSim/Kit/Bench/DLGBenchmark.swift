import FedSimCore
import Adversary
import Foundation
import Tensors

/// One benchmark case: the DLG objective and its gradient on the DLG LeNet.
public struct DLGBenchmarkCase: Sendable, Codable {
  public var batch: Int
  public var classes: Int
  public var size: Int = 32
  public var channels: Int = 3
  public var distance: GradientDistance = .l2

  public init(batch: Int, classes: Int, size: Int = 32, channels: Int = 3, distance: GradientDistance = .l2) {
    (self.batch, self.classes, self.size, self.channels, self.distance) = (batch, classes, size, channels, distance)
  }

  /// The cases `fedsim bench` runs: batch 1 with 10 and 100 classes, and batch 8, with DLG's
  /// distance; batch 1 with WDLG's, whose cost is set against DLG's.
  public static let standard = [
    DLGBenchmarkCase(batch: 1, classes: 10), DLGBenchmarkCase(batch: 1, classes: 100),
    DLGBenchmarkCase(batch: 8, classes: 10),
    DLGBenchmarkCase(batch: 1, classes: 10, distance: .wasserstein),
    DLGBenchmarkCase(batch: 1, classes: 100, distance: .wasserstein),
  ]
}

/// What one case measured.
public struct DLGBenchmarkResult: Sendable, Codable {
  public var benchmark = "dlg_objective"
  public var impl = "fedsim"
  public var model = "lenet"
  public var batch: Int
  public var classes: Int
  public var size: Int
  public var channels: Int
  public var loss: String
  public var threads: Int
  public var evals: Int
  public var msPerEval: Double
  /// Resident memory (MiB) after the warm-up and after the timed evaluations.
  public var rssStartMiB: Double
  public var rssEndMiB: Double
  /// The process's peak resident memory so far (MiB).
  public var peakRSSMiB: Double
  /// Floating-point operations of the products (matrix products, direct convolutions) in one
  /// evaluation, in millions: the work the time is set against.
  public var productMFLOPPerEval: Double = 0
  /// PyTorch's figure for the same case, measured in the same run, when asked for.
  public var torchMsPerEval: Double?
  public var speedupOverTorch: Double?

  enum CodingKeys: String, CodingKey {
    case benchmark, impl, model, batch, classes, size, channels, loss, threads, evals
    case msPerEval = "ms_per_eval", rssStartMiB = "rss_start_mib", rssEndMiB = "rss_end_mib"
    case peakRSSMiB = "peak_rss_mib", productMFLOPPerEval = "product_mflop_per_eval", torchMsPerEval = "torch_ms_per_eval"
    case speedupOverTorch = "speedup_over_torch"
  }
}

/// Times evaluations of the DLG objective (forward, create-graph backward, gradient distance,
/// backward to the dummy image and label logits), as `../shared/anchors/torch_dlg_evals.py` does.
public enum DLGBenchmark {
  public static func run(_ c: DLGBenchmarkCase, evals: Int, warmup: Int = 20) -> DLGBenchmarkResult {
    var gen = SeededGenerator(seed: 0)
    let model = LeNet(
      channels: c.channels, classes: c.classes, imageSize: c.size, generator: &gen)
    let x = Tensor.uniform([c.batch, c.channels, c.size, c.size], using: &gen)
    let labels = (0..<c.batch).map { $0 % c.classes }
    let truth = sharedGradient(model: model, input: x, targets: oneHot(labels, classes: c.classes))
    let objective = DLGObjective(model: model, sharedGradient: truth, distance: c.distance)
    let dx = Tensor.uniform(x.shape, using: &gen)
    let dy = Tensor.normal([c.batch, c.classes], using: &gen)
    for _ in 0..<warmup { _ = objective.evaluate(input: dx, labelLogits: dy) }
    let rssStart = ProcessMemory.residentMiB()
    let flops = BLAS.matrixFLOPs
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<evals { _ = objective.evaluate(input: dx, labelLogits: dy) }
    let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let mflop = Double(BLAS.matrixFLOPs - flops) / Double(evals) / 1e6
    let rssEnd = ProcessMemory.residentMiB()
    // The kernel's two counters (statm, VmHWM) are read at different moments and batched per
    // CPU, so VmHWM alone can read a few pages below a residency just measured: the peak so far
    // is at least every residency seen.
    let peak = Swift.max(ProcessMemory.peakMiB(), rssStart, rssEnd)
    return DLGBenchmarkResult(
      batch: c.batch, classes: c.classes, size: c.size, channels: c.channels,
      loss: c.distance.rawValue, threads: BLAS.threads, evals: evals,
      msPerEval: 1000 * wall / Double(evals), rssStartMiB: rssStart,
      rssEndMiB: rssEnd, peakRSSMiB: peak, productMFLOPPerEval: mflop)
  }
}

/// Resident memory of this process, from the kernel.
public enum ProcessMemory {
  /// Current resident set size in MiB (Linux `/proc/self/statm`; 0 where unavailable).
  public static func residentMiB() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
      let pages = text.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
    else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
  }

  /// Peak resident set size of this process image in MiB: Linux's `VmHWM`, which starts afresh
  /// at `exec` (unlike `getrusage`'s `ru_maxrss`, which under `swift run` would report the
  /// package manager's own peak); `getrusage` elsewhere.
  public static func peakMiB() -> Double {
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
      let kib = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
    {
      return kib / 1024
    }
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
  }
}
