/// ResNet's basic block: two 3×3 convolutions with batch norm, plus the input (through a 1×1
/// convolution and batch norm, `downsample`, when the shape changes).
public struct BasicBlock: Layer {
  public var conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
  public var downsample: Sequential?
  public var activation: Activation

  public init(_ inputs: Int, _ outputs: Int, stride: Int, activation: Activation, initializer: Initializer, generator: inout SeededGenerator) {
    conv1 = Conv2d(inputs, outputs, kernel: 3, stride: stride, padding: 1, bias: false, initializer: initializer, generator: &generator)
    bn1 = BatchNorm2d(outputs, initializer: initializer, generator: &generator)
    conv2 = Conv2d(outputs, outputs, kernel: 3, padding: 1, bias: false, initializer: initializer, generator: &generator)
    bn2 = BatchNorm2d(outputs, initializer: initializer, generator: &generator)
    if stride != 1 || inputs != outputs {
      downsample = Sequential([
        Conv2d(inputs, outputs, kernel: 1, stride: stride, bias: false, initializer: initializer, generator: &generator),
        BatchNorm2d(outputs, initializer: initializer, generator: &generator),
      ])
    }
    self.activation = activation
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    let y = bn2(conv2(bn1(conv1(x), then: activation)))
    return activation(y + (downsample.map { $0(x) } ?? x))
  }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    try conv1.visit(prefix: prefix + "conv1.", body)
    try bn1.visit(prefix: prefix + "bn1.", body)
    try conv2.visit(prefix: prefix + "conv2.", body)
    try bn2.visit(prefix: prefix + "bn2.", body)
    if var d = downsample {
      try d.visit(prefix: prefix + "downsample.", body)
      downsample = d
    }
  }
}

/// ResNet-18 with torchvision's names. The ImageNet stem (7×7 stride-2 convolution and max
/// pooling) suits 224×224 input; the CIFAR stem (3×3 stride-1 convolution, no pooling) 32×32.
public struct ResNet18: Layer {
  public enum Stem: String, Sendable, Codable, CaseIterable { case imagenet, cifar }

  public var conv1: Conv2d, bn1: BatchNorm2d
  public var stem: Stem
  public var layers: [Sequential]
  public var fc: Linear
  public var activation: Activation

  public init(
    channels: Int = 3, classes: Int = 1000, stem: Stem = .imagenet, activation: Activation = .relu,
    initializer: Initializer = .pytorchDefault, generator: inout SeededGenerator
  ) {
    self.stem = stem
    self.activation = activation
    conv1 = stem == .imagenet
      ? Conv2d(channels, 64, kernel: 7, stride: 2, padding: 3, bias: false, initializer: initializer, generator: &generator)
      : Conv2d(channels, 64, kernel: 3, stride: 1, padding: 1, bias: false, initializer: initializer, generator: &generator)
    bn1 = BatchNorm2d(64, initializer: initializer, generator: &generator)
    var width = 64
    layers = []
    for (i, out) in [64, 128, 256, 512].enumerated() {
      let first = BasicBlock(width, out, stride: i == 0 ? 1 : 2, activation: activation, initializer: initializer, generator: &generator)
      let second = BasicBlock(out, out, stride: 1, activation: activation, initializer: initializer, generator: &generator)
      layers.append(Sequential([first, second]))
      width = out
    }
    fc = Linear(512, classes, initializer: initializer, generator: &generator)
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    var y = bn1(conv1(x), then: activation)
    if stem == .imagenet { y = maxPool2d(y, kernel: 3, stride: 2, padding: 1) }
    for layer in layers { y = layer(y) }
    return fc(y.mean(alongAxes: [2, 3]))
  }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    try conv1.visit(prefix: prefix + "conv1.", body)
    try bn1.visit(prefix: prefix + "bn1.", body)
    for i in layers.indices { try layers[i].visit(prefix: prefix + "layer\(i + 1).", body) }
    try fc.visit(prefix: prefix + "fc.", body)
  }
}
