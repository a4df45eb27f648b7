import FedData
import FedSimCore
import Dispatch
import Tensors

/// Training throughput of the DLG LeNet with ReLU on 28×28×1 input with SGD (lr 0.05, momentum
/// 0.9), as `../shared/anchors/torch_train_throughput.py` measures it.
public enum TrainingBenchmark {
  public struct Result: Sendable, Codable {
    public var benchmark = "train_throughput"
    public var impl = "fedsim"
    public var model = "lenet-relu"
    public var input = "1x28x28"
    public var batch: Int
    public var threads: Int
    public var steps: Int
    public var imagesPerSecond: Double
    /// Floating-point operations of the products in one step, in millions.
    public var productMFLOPPerStep: Double = 0
    public var torchImagesPerSecond: Double?
    public var speedupOverTorch: Double?

    enum CodingKeys: String, CodingKey {
      case benchmark, impl, model, input, batch, threads, steps
      case imagesPerSecond = "images_per_s", productMFLOPPerStep = "product_mflop_per_step"
      case torchImagesPerSecond = "torch_images_per_s"
      case speedupOverTorch = "speedup_over_torch"
    }
  }

  /// `model` is a zoo name (`lenet` or `fedavg_cnn`), with ReLU and PyTorch's initialisation.
  public static func run(model name: String = "lenet", batch: Int = 64, steps: Int = 300, warmup: Int = 20) throws -> Result {
    var gen = SeededGenerator(seed: 0)
    var model = try ModelZoo.make(
      ModelSpec(name: name, channels: 1, imageSize: 28, classes: 10, activation: .relu, initializer: .pytorchDefault), generator: &gen)
    var sgd = SGD(learningRate: 0.05, momentum: 0.9)
    let x = Tensor.uniform([batch, 1, 28, 28], using: &gen)
    let labels = (0..<batch).map { _ in Int(gen.next() % 10) }
    let training = LocalTraining(batchSize: batch)
    for _ in 0..<warmup { training.step(&model, images: x, labels: labels, optimizer: &sgd) }
    let flops = BLAS.matrixFLOPs
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<steps { training.step(&model, images: x, labels: labels, optimizer: &sgd) }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return Result(
      model: name + "-relu", batch: batch, threads: BLAS.threads, steps: steps, imagesPerSecond: Double(steps * batch) / seconds,
      productMFLOPPerStep: Double(BLAS.matrixFLOPs - flops) / Double(steps) / 1e6)
  }
}
