/// The CNN of FedAvg (McMahan et al. 2017, "Communication-Efficient Learning of Deep Networks
/// from Decentralized Data"): two 5×5 convolutions of 32 and 64 channels (padding 2), each
/// followed by the activation and 2×2 max pooling, a linear layer of 512 units with the
/// activation, and the output layer. 1,663,370 parameters on MNIST. Names follow
/// `nn.Sequential`: `body.{0,3,7,9}.{weight,bias}`.
public struct FedAvgCNN: Layer {
  public var body: Sequential

  public init(
    channels: Int = 1, classes: Int = 10, imageSize: Int = 28, activation: Activation = .relu,
    initializer: Initializer = .pytorchDefault, generator: inout SeededGenerator
  ) {
    let pooled = imageSize / 4
    body = Sequential([
      Conv2d(channels, 32, kernel: 5, padding: 2, initializer: initializer, generator: &generator), activation,
      MaxPool2d(kernel: 2),
      Conv2d(32, 64, kernel: 5, padding: 2, initializer: initializer, generator: &generator), activation,
      MaxPool2d(kernel: 2),
      Flatten(),
      Linear(64 * pooled * pooled, 512, initializer: initializer, generator: &generator), activation,
      Linear(512, classes, initializer: initializer, generator: &generator),
    ])
  }

  public func callAsFunction(_ x: Tensor) -> Tensor { body(x) }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    try self.body.visit(prefix: prefix + "body.", body)
  }
}
