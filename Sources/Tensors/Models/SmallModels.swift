/// The six-convolution network of R-GAP (Zhu & Blaschko 2021), also attacked by WDLG: bias-free
/// convolutions 3→12 (k4 s2 p2), 12→36 (k3 s2), 36→36, 36→36, 36→64 (k3 s2), 64→128 (padding 1),
/// each followed by the activation (R-GAP uses leaky ReLU 0.2), then a bias-free linear layer.
/// Names follow R-GAP: `body.{i}.layer.weight`.
public struct CNN6: Layer {
  public var body: Sequential

  public init(
    channels: Int = 3, classes: Int = 10, imageSize: Int = 32, activation: Activation = .leakyRelu,
    initializer: Initializer = .pytorchDefault, generator: inout SeededGenerator
  ) {
    let plan: [(Int, Int, Int, Int, Int)] = [
      (channels, 12, 4, 2, 2), (12, 36, 3, 2, 1), (36, 36, 3, 1, 1), (36, 36, 3, 1, 1), (36, 64, 3, 2, 1), (64, 128, 3, 1, 1),
    ]
    var size = imageSize
    var stages: [(String, any Layer)] = []
    for (i, (cin, cout, k, s, p)) in plan.enumerated() {
      let conv = Conv2d(cin, cout, kernel: k, stride: s, padding: p, bias: false, initializer: initializer, generator: &generator)
      stages.append(("\(i)", Sequential(named: [("layer", conv), ("act", activation)])))
      size = (size + 2 * p - k) / s + 1
    }
    let fc = Linear(128 * size * size, classes, bias: false, initializer: initializer, generator: &generator)
    stages.append(("6", Sequential(named: [("flatten", Flatten()), ("layer", fc)])))
    body = Sequential(named: stages)
  }

  public func callAsFunction(_ x: Tensor) -> Tensor { body(x) }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    try self.body.visit(prefix: prefix + "body.", body)
  }
}

/// A multilayer perceptron on flattened images: `body.1`, `body.3`, … are the linear layers
/// (`body.0` is the flatten), as `nn.Sequential(nn.Flatten(), nn.Linear, act, …)` names them.
public struct MLP: Layer {
  public var body: Sequential

  public init(
    inputs: Int, hidden: [Int] = [256], classes: Int = 10, activation: Activation = .sigmoid,
    initializer: Initializer = .pytorchDefault, generator: inout SeededGenerator
  ) {
    var layers: [any Layer] = [Flatten()]
    var width = inputs
    for h in hidden {
      layers.append(Linear(width, h, initializer: initializer, generator: &generator))
      layers.append(activation)
      width = h
    }
    layers.append(Linear(width, classes, initializer: initializer, generator: &generator))
    body = Sequential(layers)
  }

  public func callAsFunction(_ x: Tensor) -> Tensor { body(x) }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    try self.body.visit(prefix: prefix + "body.", body)
  }
}
