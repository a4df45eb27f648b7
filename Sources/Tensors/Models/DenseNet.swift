/// One layer of a dense block: BN–act–1×1 conv to `4·growth`, BN–act–3×3 conv to `growth`,
/// its output concatenated to its input.
public struct DenseLayer: Layer {
  public var norm1: BatchNorm2d, conv1: Conv2d, norm2: BatchNorm2d, conv2: Conv2d
  public var activation: Activation

  public init(_ inputs: Int, growth: Int, activation: Activation, initializer: Initializer, generator: inout SeededGenerator) {
    norm1 = BatchNorm2d(inputs, initializer: initializer, generator: &generator)
    conv1 = Conv2d(inputs, 4 * growth, kernel: 1, bias: false, initializer: initializer, generator: &generator)
    norm2 = BatchNorm2d(4 * growth, initializer: initializer, generator: &generator)
    conv2 = Conv2d(4 * growth, growth, kernel: 3, padding: 1, bias: false, initializer: initializer, generator: &generator)
    self.activation = activation
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    let y = conv2(norm2(conv1(norm1(x, then: activation)), then: activation))
    return concat([x, y], alongAxis: 1)
  }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    try norm1.visit(prefix: prefix + "norm1.", body)
    try conv1.visit(prefix: prefix + "conv1.", body)
    try norm2.visit(prefix: prefix + "norm2.", body)
    try conv2.visit(prefix: prefix + "conv2.", body)
  }
}

/// DenseNet's transition: BN–act–1×1 conv halving the channels, then 2×2 average pooling.
public struct Transition: Layer {
  public var norm: BatchNorm2d, conv: Conv2d
  public var activation: Activation

  public init(_ inputs: Int, _ outputs: Int, activation: Activation, initializer: Initializer, generator: inout SeededGenerator) {
    norm = BatchNorm2d(inputs, initializer: initializer, generator: &generator)
    conv = Conv2d(inputs, outputs, kernel: 1, bias: false, initializer: initializer, generator: &generator)
    self.activation = activation
  }

  public func callAsFunction(_ x: Tensor) -> Tensor { avgPool2d(conv(norm(x, then: activation)), kernel: 2) }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    try norm.visit(prefix: prefix + "norm.", body)
    try conv.visit(prefix: prefix + "conv.", body)
  }
}

/// DenseNet-121 (growth 32, blocks of 6, 12, 24, 16 layers) with torchvision's names.
public struct DenseNet121: Layer {
  public var features: Sequential
  public var classifier: Linear
  public var activation: Activation
  /// The activation after `norm5` (torchvision's functional ReLU).
  public var finalActivation: Activation

  public init(
    channels: Int = 3, classes: Int = 1000, activation: Activation = .relu, finalActivation: Activation? = nil,
    initializer: Initializer = .pytorchDefault, generator: inout SeededGenerator
  ) {
    self.activation = activation
    self.finalActivation = finalActivation ?? activation
    var parts: [(String, any Layer)] = [
      ("conv0", Conv2d(channels, 64, kernel: 7, stride: 2, padding: 3, bias: false, initializer: initializer, generator: &generator)),
      ("norm0", BatchNorm2d(64, initializer: initializer, generator: &generator)),
      ("relu0", activation), ("pool0", MaxPool2d(kernel: 3, stride: 2, padding: 1)),
    ]
    var width = 64
    for (b, count) in [6, 12, 24, 16].enumerated() {
      var block: [(String, any Layer)] = []
      for l in 0..<count {
        block.append(("denselayer\(l + 1)", DenseLayer(width, growth: 32, activation: activation, initializer: initializer, generator: &generator)))
        width += 32
      }
      parts.append(("denseblock\(b + 1)", Sequential(named: block)))
      if b < 3 {
        parts.append(("transition\(b + 1)", Transition(width, width / 2, activation: activation, initializer: initializer, generator: &generator)))
        width /= 2
      }
    }
    parts.append(("norm5", BatchNorm2d(width, initializer: initializer, generator: &generator)))
    features = Sequential(named: parts)
    classifier = Linear(width, classes, initializer: initializer, generator: &generator)
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    classifier(finalActivation(features(x)).mean(alongAxes: [2, 3]))
  }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    try features.visit(prefix: prefix + "features.", body)
    try classifier.visit(prefix: prefix + "classifier.", body)
  }
}
