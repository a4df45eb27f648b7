import Synchronization

/// Batch normalisation over the channels of NCHW input, as `nn.BatchNorm2d`.
///
/// With batch statistics (training and attacks) it normalises by the batch's mean and biased
/// variance in one op (`batchNorm`), whose gradients are ops with rules of their own, so
/// gradients of gradients flow through it. The
/// running mean and (unbiased) variance are buffers; they live in a shared box so that a
/// forward pass in `.training` mode can update them, as PyTorch's does: copies of a layer
/// share them until one is loaded or replaced.
public struct BatchNorm2d: Layer {
  public var weight: Tensor
  public var bias: Tensor
  public var epsilon: Float
  public var momentum: Float
  let statistics: RunningStatistics

  public init(
    _ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, initializer: Initializer = .pytorchDefault,
    generator: inout SeededGenerator
  ) {
    switch initializer {
    case .pytorchDefault: (weight, bias) = (.ones([channels]), .zeros([channels]))
    case .dlgUniform:
      weight = .uniform([channels], low: -0.5, high: 0.5, using: &generator)
      bias = .uniform([channels], low: -0.5, high: 0.5, using: &generator)
    }
    (self.epsilon, self.momentum) = (epsilon, momentum)
    statistics = RunningStatistics(channels: channels)
  }

  public var runningMean: Tensor { statistics.state.withLock { $0.mean } }
  public var runningVariance: Tensor { statistics.state.withLock { $0.variance } }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    checkShape(x)
    let c = weight.scalarCount
    let mode = ForwardMode.current
    guard mode.usesBatchStatistics else {
      let scale = weight.reshaped(to: [1, c, 1, 1]) / (runningVariance.reshaped(to: [1, c, 1, 1]) + epsilon).sqrt()
      return (x - runningMean.reshaped(to: [1, c, 1, 1])) * scale + bias.reshaped(to: [1, c, 1, 1])
    }
    foldRunningStatistics(x, mode)
    return batchNorm(x, weight: weight, bias: bias, epsilon: epsilon)
  }

  /// `activation(self(x))`: by batch statistics and a sigmoid or a ReLU, one op
  /// (`Op.batchNormActivated`), the same values in one pass where the two made two, and no
  /// normalised tensor kept.
  public func callAsFunction(_ x: Tensor, then activation: Activation) -> Tensor {
    guard activation == .sigmoid || activation == .relu, ForwardMode.current.usesBatchStatistics else {
      return activation(self(x))
    }
    checkShape(x)
    foldRunningStatistics(x, ForwardMode.current)
    return batchNorm(x, weight: weight, bias: bias, epsilon: epsilon, then: activation)
  }

  /// NCHW input with this layer's channel count.
  private func checkShape(_ x: Tensor) {
    precondition(x.rank == 4 && x.shape[1] == weight.scalarCount, "BatchNorm2d(\(weight.scalarCount)) on \(x.shape)")
  }

  /// The batch's statistics folded into the running ones, where `mode` updates them.
  private func foldRunningStatistics(_ x: Tensor, _ mode: ForwardMode) {
    let c = weight.scalarCount
    if mode.updatesRunningStatistics {
      withoutGradients {
        let mean = x.mean(alongAxes: [0, 2, 3], keepingDims: true)
        let centered = x - mean
        let variance = (centered * centered).mean(alongAxes: [0, 2, 3])
        let n = Float(x.scalarCount / c)
        statistics.fold(
          mean: mean.reshaped(to: [c]), unbiasedVariance: variance * (n / Swift.max(n - 1, 1)), momentum: momentum)
      }
    }
  }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    try body(prefix + "weight", .parameter, &weight)
    try body(prefix + "bias", .parameter, &bias)
    var (mean, variance, count) = statistics.state.withLock { ($0.mean, $0.variance, $0.batches) }
    try body(prefix + "running_mean", .buffer, &mean)
    try body(prefix + "running_var", .buffer, &variance)
    try body(prefix + "num_batches_tracked", .buffer, &count)
    statistics.state.withLock { $0 = (mean, variance, count) }
  }
}

/// Running mean, variance and batch count of a batch-norm layer.
final class RunningStatistics: Sendable {
  let state: Mutex<(mean: Tensor, variance: Tensor, batches: Tensor)>

  init(channels: Int) {
    state = Mutex((.zeros([channels]), .ones([channels]), Tensor(0)))
  }

  func fold(mean: Tensor, unbiasedVariance: Tensor, momentum: Float) {
    withoutGradients {
      state.withLock { s in
        s.mean = s.mean * (1 - momentum) + mean * momentum
        s.variance = s.variance * (1 - momentum) + unbiasedVariance * momentum
        s.batches = s.batches + 1
      }
    }
  }
}

/// Max pooling.
public struct MaxPool2d: Layer {
  public var kernel: Int, stride: Int, padding: Int
  public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
    (self.kernel, self.stride, self.padding) = (kernel, stride ?? kernel, padding)
  }
  public func callAsFunction(_ x: Tensor) -> Tensor { maxPool2d(x, kernel: kernel, stride: stride, padding: padding) }
  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {}
}

/// Average pooling (padded zeros counted, as PyTorch's default).
public struct AvgPool2d: Layer {
  public var kernel: Int, stride: Int, padding: Int
  public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
    (self.kernel, self.stride, self.padding) = (kernel, stride ?? kernel, padding)
  }
  public func callAsFunction(_ x: Tensor) -> Tensor { avgPool2d(x, kernel: kernel, stride: stride, padding: padding) }
  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {}
}

/// Adaptive average pooling to a fixed output size.
public struct AdaptiveAvgPool2d: Layer {
  public var height: Int, width: Int
  public init(_ height: Int, _ width: Int) { (self.height, self.width) = (height, width) }
  public func callAsFunction(_ x: Tensor) -> Tensor { adaptiveAvgPool2d(x, outputSize: (height, width)) }
  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {}
}

/// Dropout: while `ForwardMode.current.dropoutIsActive`, zeroes each element with probability
/// `p` and scales the rest by 1/(1−p); otherwise (attacks, evaluation) the identity.
public struct Dropout: Layer {
  public var probability: Float
  let randomness: DropoutRandomness

  public init(probability: Float = 0.5, seed: UInt64 = 0) {
    precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
    self.probability = probability
    randomness = DropoutRandomness(seed: seed)
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    guard ForwardMode.current.dropoutIsActive, probability > 0 else { return x }
    let keep = 1 - probability
    let mask = randomness.generator.withLock { gen in
      Tensor(shape: x.shape, scalars: (0..<x.scalarCount).map { _ in gen.nextUnitFloat() < keep ? 1 / keep : 0 })
    }
    return x * mask
  }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {}
}

final class DropoutRandomness: Sendable {
  let generator: Mutex<SeededGenerator>
  init(seed: UInt64) { generator = Mutex(SeededGenerator(seed: seed)) }
}
