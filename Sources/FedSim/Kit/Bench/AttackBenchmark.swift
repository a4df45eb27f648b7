import FedData
import FedSimCore
import Adversary
import Foundation
import Tensors

/// A whole DLG attack (300 L-BFGS steps by default) on one CIFAR-100 test image with the DLG
/// LeNet (100 classes, uniform weights), as `../shared/anchors/torch_dlg.py` runs it.
public enum AttackBenchmark {
  public struct Result: Sendable, Codable {
    public var benchmark = "dlg_attack"
    public var impl = "fedsim"
    public var data: String
    public var index: Int
    public var classes: Int
    public var iterations: Int
    public var threads: Int
    public var evaluations: Int
    public var wallSeconds: Double
    public var msPerEval: Double
    public var psnr: Double
    public var labelAccuracy: Double
    public var torchWallSeconds: Double?
    public var torchEvaluations: Int?
    public var torchPSNR: Double?
    public var speedupOverTorch: Double?

    enum CodingKeys: String, CodingKey {
      case benchmark, impl, data, index, classes, iterations, threads, evaluations, psnr
      case wallSeconds = "wall_s", msPerEval = "ms_per_eval", labelAccuracy = "label_acc"
      case torchWallSeconds = "torch_wall_s", torchEvaluations = "torch_evaluations"
      case torchPSNR = "torch_psnr", speedupOverTorch = "speedup_over_torch"
    }
  }

  /// Attacks image `index` of `dataset` (read from `source`) with DLG.
  public static func run(
    dataset: ImageDataset, source: String, index: Int, classes: Int = 100, iterations: Int = 300
  ) throws -> Result {
    var generator = SeededGenerator(seed: 0)
    let spec = ModelSpec(name: "lenet", channels: dataset.channels, imageSize: dataset.height, classes: classes)
    let model = try ModelZoo.make(spec, generator: &generator)
    let update = RecordedUpdate(
      spec: spec, model: model, input: dataset.images([index]), labels: dataset.labels([index]))
    let (metrics, _, _) = try AttackRun.run(
      update: update, configuration: AttackConfiguration(method: .dlg, iterations: iterations))
    return Result(
      data: source, index: index, classes: classes, iterations: iterations, threads: BLAS.threads,
      evaluations: metrics.evaluations, wallSeconds: metrics.wallSeconds,
      msPerEval: 1000 * metrics.wallSeconds / Double(metrics.evaluations), psnr: metrics.psnr!,
      labelAccuracy: metrics.labelAccuracy!)
  }
}
