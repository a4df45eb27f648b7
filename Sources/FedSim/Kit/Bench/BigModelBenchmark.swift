import Adversary
import FedSimCore
import Foundation
import Tensors

/// One DLG evaluation (forward, create-graph backward, gradient distance, backward to the dummy
/// image and label logits) on the big-model study's models, as
/// `../shared/anchors/torch_bigmodel_evals.py` times it: torchvision's architecture with its
/// `nn.ReLU` modules swapped for sigmoid (`activation_scope: modules`), random weights, 10
/// classes, a uniform image, batch 2 for Inception-v3 (its batch norm needs two).
public enum BigModelBenchmark {
  public struct Case: Sendable {
    public var model: String
    public var size: Int
    public var batch: Int
    public init(model: String, size: Int, batch: Int) { (self.model, self.size, self.batch) = (model, size, batch) }
    /// The study's three: ResNet-18 and DenseNet-121 at 224, Inception-v3 at 299.
    public static let standard = [
      Case(model: "resnet18", size: 224, batch: 1), Case(model: "densenet121", size: 224, batch: 1),
      Case(model: "inception_v3", size: 299, batch: 2),
    ]
  }

  public struct Result: Sendable, Codable {
    public var benchmark = "dlg_objective_big"
    public var impl = "fedsim"
    public var model: String
    public var size: Int
    public var batch: Int
    public var parameters: Int
    public var threads: Int
    public var evals: Int
    public var msPerEval: Double
    /// The fastest single evaluation: on a shared machine, the least disturbed.
    public var bestMs: Double
    /// Matrix-product work of one evaluation (GFLOP), this machine's product rate (GFLOP/s), and
    /// so the time the products alone need at that rate: the floor.
    public var gflopPerEval: Double
    public var peakGFLOPs: Double
    public var floorMs: Double
    /// The process's peak resident memory after this case (MiB; cases run smallest first).
    public var peakRSSMiB: Double
    public var torchMsPerEval: Double?
    /// PyTorch's process's peak resident memory (MiB), read from the kernel when it exits.
    public var torchPeakRSSMiB: Double?
    /// PyTorch's time over FedSim's, each round (a round times both, one after the other).
    public var roundSpeedups: [Double]?
    /// PyTorch's mean time over FedSim's, over all rounds.
    public var speedupOverTorch: Double?
    /// The median of `roundSpeedups`: on a shared machine, a round that the host slowed on one
    /// side only moves the means' ratio, not this.
    public var medianRoundSpeedup: Double?

    public init(
      model: String, size: Int, batch: Int, parameters: Int, threads: Int, evals: Int, msPerEval: Double, bestMs: Double,
      gflopPerEval: Double, peakGFLOPs: Double, floorMs: Double, peakRSSMiB: Double
    ) {
      (self.model, self.size, self.batch, self.parameters, self.threads, self.evals) = (model, size, batch, parameters, threads, evals)
      (self.msPerEval, self.bestMs, self.gflopPerEval, self.peakGFLOPs) = (msPerEval, bestMs, gflopPerEval, peakGFLOPs)
      (self.floorMs, self.peakRSSMiB) = (floorMs, peakRSSMiB)
    }

    /// PyTorch's figures beside these: each round's time (ms an evaluation) and peak memory,
    /// taken right after FedSim's round of `ours` ms an evaluation.
    public mutating func compare(torch: [(ms: Double, peak: Double?)], ours: [Double]) {
      guard !torch.isEmpty, torch.count == ours.count else { return }
      torchMsPerEval = torch.map(\.ms).reduce(0, +) / Double(torch.count)
      torchPeakRSSMiB = torch.compactMap(\.peak).max()
      speedupOverTorch = torchMsPerEval.map { $0 / msPerEval }
      roundSpeedups = zip(torch, ours).map { $0.ms / $1 }
      medianRoundSpeedup = roundSpeedups.map(BigModelScaling.median)
    }

    enum CodingKeys: String, CodingKey {
      case benchmark, impl, model, size, batch, parameters, threads, evals
      case msPerEval = "ms_per_eval", bestMs = "best_ms", gflopPerEval = "gflop_per_eval", peakGFLOPs = "peak_gflops", floorMs = "floor_ms"
      case peakRSSMiB = "peak_rss_mib", torchMsPerEval = "torch_ms_per_eval"
      case torchPeakRSSMiB = "torch_peak_rss_mib", speedupOverTorch = "speedup_over_torch", roundSpeedups = "round_speedups"
      case medianRoundSpeedup = "median_round_speedup"
    }
  }

  /// One case's model, true gradient and dummy, built and warmed up once, then timed in rounds
  /// (between which the bench runs PyTorch's, so that each pair of figures shares the machine's
  /// state).
  public struct Prepared {
    public let c: Case
    let model: AnyModel
    let objective: DLGObjective<AnyModel>
    let dx: Tensor, dy: Tensor
    public private(set) var times: [Double] = []
    private var flops = 0

    public init(_ c: Case, classes: Int = 10) throws {
      var gen = SeededGenerator(seed: 0)
      let spec = ModelSpec(
        name: c.model, channels: 3, imageSize: c.size, classes: classes, activation: .sigmoid,
        auxiliaryHead: c.model == "inception_v3" ? false : nil, activationScope: .modules)
      let model = try ModelZoo.make(spec, generator: &gen)
      let x = Tensor.uniform([c.batch, 3, c.size, c.size], using: &gen)
      let truth = sharedGradient(model: model, input: x, targets: oneHot((0..<c.batch).map { $0 % classes }, classes: classes))
      (self.c, self.model) = (c, model)
      objective = DLGObjective(model: model, sharedGradient: truth, distance: .l2)
      dx = Tensor.normal(x.shape, using: &gen)
      dy = Tensor.normal([c.batch, classes], using: &gen)
      _ = objective.evaluate(input: dx, labelLogits: dy)  // warm-up, as the anchor's
    }

    /// Times `evals` more evaluations; their mean (ms).
    public mutating func time(evals: Int) -> Double {
      let before = BLAS.matrixFLOPs
      let round = evaluationTimes(evals)
      flops += BLAS.matrixFLOPs - before
      times += round
      return round.reduce(0, +) / Double(evals)
    }

    /// The times of `evals` more evaluations (ms), kept out of `times`.
    public func evaluationTimes(_ evals: Int) -> [Double] { timedEvaluations(evals).times }

    /// `evals` evaluations' times (ms) and the last one's value.
    func timedEvaluations(_ evals: Int) -> (times: [Double], value: Float) {
      var value = Float.nan
      let times = (0..<evals).map { _ in
        let start = DispatchTime.now().uptimeNanoseconds
        value = objective.evaluate(input: dx, labelLogits: dy).value
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
      }
      return (times, value)
    }

    /// The figures of every evaluation timed so far. `peak`: this machine's matrix-product rate
    /// (GFLOP/s), measured once for all cases.
    public func result(peak: Double) -> Result {
      let gflop = Double(flops) / Double(Swift.max(1, times.count)) / 1e9
      return Result(
        model: c.model, size: c.size, batch: c.batch, parameters: model.parameters.reduce(0) { $0 + $1.scalarCount },
        threads: BLAS.threads, evals: times.count, msPerEval: times.reduce(0, +) / Double(Swift.max(1, times.count)),
        bestMs: times.min() ?? .nan, gflopPerEval: gflop, peakGFLOPs: peak,
        floorMs: 1000 * gflop / peak, peakRSSMiB: ProcessMemory.peakMiB())
    }
  }
}
