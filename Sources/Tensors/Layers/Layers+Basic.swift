/// A fully connected layer: `x · weightᵀ + bias`, weight [out, in] as in PyTorch.
public struct Linear: Layer {
  public var weight: Tensor
  public var bias: Tensor?

  public init(weight: Tensor, bias: Tensor?) {
    precondition(weight.rank == 2 && (bias == nil || bias!.shape == [weight.shape[0]]))
    self.weight = weight
    self.bias = bias
  }

  /// A layer of `inputs → outputs` drawn by `initializer`.
  public init(_ inputs: Int, _ outputs: Int, bias: Bool = true, initializer: Initializer, generator: inout SeededGenerator) {
    weight = initializer.weight([outputs, inputs], using: &generator)
    self.bias = bias ? initializer.bias(outputs, fanIn: inputs, using: &generator) : nil
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    let y = matmul(x, weight, transposeB: true)
    return bias.map { y + $0 } ?? y
  }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    try visitWeightAndBias(prefix: prefix, &weight, &bias, body)
  }
}

/// A 2-D convolution layer over NCHW input with an OIHW filter.
public struct Conv2d: Layer {
  public var weight: Tensor
  public var bias: Tensor?
  public var geometry: ConvGeometry

  public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, groups: Int = 1) {
    self.init(weight: weight, bias: bias, geometry: ConvGeometry(stride: (stride, stride), padding: (padding, padding), groups: groups))
  }

  public init(weight: Tensor, bias: Tensor?, geometry: ConvGeometry) {
    precondition(weight.rank == 4 && (bias == nil || bias!.shape == [weight.shape[0]]))
    self.weight = weight
    self.bias = bias
    self.geometry = geometry
  }

  /// A layer of `inputs → outputs` channels with a `kernel` (height, width), drawn by
  /// `initializer`.
  public init(
    _ inputs: Int, _ outputs: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
    bias: Bool = true, initializer: Initializer, generator: inout SeededGenerator
  ) {
    let fanIn = inputs * kernel.0 * kernel.1
    self.init(
      weight: initializer.weight([outputs, inputs, kernel.0, kernel.1], using: &generator),
      bias: bias ? initializer.bias(outputs, fanIn: fanIn, using: &generator) : nil,
      geometry: ConvGeometry(stride: stride, padding: padding))
  }

  /// A square-kernel layer.
  public init(
    _ inputs: Int, _ outputs: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
    initializer: Initializer, generator: inout SeededGenerator
  ) {
    self.init(
      inputs, outputs, kernel: (kernel, kernel), stride: (stride, stride), padding: (padding, padding), bias: bias,
      initializer: initializer, generator: &generator)
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    let y = conv2d(x, filter: weight, geometry: geometry)
    return bias.map { y + $0.reshaped(to: [1, $0.scalarCount, 1, 1]) } ?? y
  }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    try visitWeightAndBias(prefix: prefix, &weight, &bias, body)
  }
}

/// Visits `weight` and, when there is one, `bias`, as PyTorch names them.
func visitWeightAndBias(
  prefix: String, _ weight: inout Tensor, _ bias: inout Tensor?,
  _ body: (String, TensorRole, inout Tensor) throws -> Void
) rethrows {
  try body(prefix + "weight", .parameter, &weight)
  if var b = bias {
    try body(prefix + "bias", .parameter, &b)
    bias = b
  }
}

/// A twice-differentiable activation chosen by name, as DLG needs.
public enum Activation: String, Layer, CaseIterable, Codable {
  case sigmoid, tanh, relu
  /// Leaky ReLU with slope 0.2 (R-GAP's CNN6).
  case leakyRelu = "leaky-relu"

  public func callAsFunction(_ x: Tensor) -> Tensor {
    switch self {
    case .sigmoid: Tensors.sigmoid(x)
    case .tanh: Tensors.tanh(x)
    case .relu: Tensors.relu(x)
    case .leakyRelu: Tensors.leakyRelu(x, slope: 0.2)
    }
  }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {}
}

/// Merges all axes after the first.
public struct Flatten: Layer {
  public init() {}
  public func callAsFunction(_ x: Tensor) -> Tensor { x.flattened() }
  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {}
}

/// Layers applied in order, each under its name: positions (`0.weight`) as `nn.Sequential`,
/// or given names as `nn.Sequential(OrderedDict(...))`.
public struct Sequential: Layer {
  public var layers: [any Layer]
  public var names: [String]

  public init(_ layers: [any Layer]) {
    self.layers = layers
    self.names = layers.indices.map(String.init)
  }

  public init(named: [(String, any Layer)]) {
    self.layers = named.map(\.1)
    self.names = named.map(\.0)
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    layers.reduce(x) { $1($0) }
  }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    for i in layers.indices { try layers[i].visit(prefix: prefix + names[i] + ".", body) }
  }
}
