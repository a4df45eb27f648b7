/// The LeNet variant of DLG (Zhu, Liu, Han 2019): three 5×5 convolutions of 12 channels
/// (strides 2, 2, 1; padding 2), each followed by the activation, then one linear layer.
/// Parameter names match the PyTorch anchor: `body.{0,2,4}.{weight,bias}`, `fc.{weight,bias}`.
public struct LeNet: Layer {
  public var body: Sequential
  public var fc: Linear

  /// The linear layer's input size for a square image side.
  public static func hiddenSize(imageSize: Int) -> Int { 12 * ((imageSize + 3) / 4) * ((imageSize + 3) / 4) }

  /// A LeNet initialised by `initializer` (DLG's uniform(−0.5, 0.5) by default).
  public init(
    channels: Int = 3, classes: Int = 10, imageSize: Int = 32, activation: Activation = .sigmoid,
    initializer: Initializer = .dlgUniform, generator: inout SeededGenerator
  ) {
    func w(_ shape: [Int]) -> Tensor { initializer.weight(shape, using: &generator) }
    func b(_ n: Int, fanIn: Int) -> Tensor { initializer.bias(n, fanIn: fanIn, using: &generator) }
    body = Sequential([
      Conv2d(weight: w([12, channels, 5, 5]), bias: b(12, fanIn: channels * 25), stride: 2, padding: 2),
      activation,
      Conv2d(weight: w([12, 12, 5, 5]), bias: b(12, fanIn: 300), stride: 2, padding: 2), activation,
      Conv2d(weight: w([12, 12, 5, 5]), bias: b(12, fanIn: 300), stride: 1, padding: 2), activation,
    ])
    let hidden = LeNet.hiddenSize(imageSize: imageSize)
    fc = Linear(weight: w([classes, hidden]), bias: b(classes, fanIn: hidden))
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    fc(body(x).flattened())
  }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    try self.body.visit(prefix: prefix + "body.", body)
    try fc.visit(prefix: prefix + "fc.", body)
  }
}
