/// A fully connected layer: `x · weightᵀ + bias`, weight [out, in] as in PyTorch.
public struct Linear: Layer {
  public var weight: Tensor
  public var bias: Tensor?

  public init(weight: Tensor, bias: Tensor?) {
    precondition(weight.rank == 2 && (bias == nil || bias!.shape == [weight.shape[0]]))
    self.weight = weight
    self.bias = bias
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    let y = matmul(x, weight, transposeB: true)
    return bias.map { y + $0 } ?? y
  }

  public mutating func visitParameters(
    prefix: String, _ body: (String, inout Tensor) throws -> Void
  ) rethrows {
    try visitWeightAndBias(prefix: prefix, &weight, &bias, body)
  }
}

/// A 2-D convolution layer over NCHW input with an OIHW filter.
public struct Conv2d: Layer {
  public var weight: Tensor
  public var bias: Tensor?
  public var geometry: ConvGeometry

  public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, groups: Int = 1) {
    precondition(weight.rank == 4 && (bias == nil || bias!.shape == [weight.shape[0]]))
    self.weight = weight
    self.bias = bias
    self.geometry = ConvGeometry(stride: (stride, stride), padding: (padding, padding), groups: groups)
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    let y = conv2d(x, filter: weight, geometry: geometry)
    return bias.map { y + $0.reshaped(to: [1, $0.scalarCount, 1, 1]) } ?? y
  }

  public mutating func visitParameters(
    prefix: String, _ body: (String, inout Tensor) throws -> Void
  ) rethrows {
    try visitWeightAndBias(prefix: prefix, &weight, &bias, body)
  }
}

/// A twice-differentiable activation chosen by name, as DLG needs.
public enum Activation: String, Layer, CaseIterable, Codable {
  case sigmoid, tanh, relu
  case leakyRelu = "leaky-relu"

  public func callAsFunction(_ x: Tensor) -> Tensor {
    switch self {
    case .sigmoid: Tensors.sigmoid(x)
    case .tanh: Tensors.tanh(x)
    case .relu: Tensors.relu(x)
    case .leakyRelu: Tensors.leakyRelu(x)
    }
  }

  public mutating func visitParameters(
    prefix: String, _ body: (String, inout Tensor) throws -> Void
  ) rethrows {}
}

/// Merges all axes after the first.
public struct Flatten: Layer {
  public init() {}
  public func callAsFunction(_ x: Tensor) -> Tensor { x.flattened() }
  public mutating func visitParameters(
    prefix: String, _ body: (String, inout Tensor) throws -> Void
  ) rethrows {}
}

/// Layers applied in order; parameters are named by position (`0.weight`), as `nn.Sequential`.
public struct Sequential: Layer {
  public var layers: [any Layer]

  public init(_ layers: [any Layer]) { self.layers = layers }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    layers.reduce(x) { $1($0) }
  }

  public mutating func visitParameters(
    prefix: String, _ body: (String, inout Tensor) throws -> Void
  ) rethrows {
    for i in layers.indices { try layers[i].visitParameters(prefix: prefix + "\(i).", body) }
  }
}

/// Visits `weight` and, when there is one, `bias`, as PyTorch names them.
func visitWeightAndBias(
  prefix: String, _ weight: inout Tensor, _ bias: inout Tensor?,
  _ body: (String, inout Tensor) throws -> Void
) rethrows {
  try body(prefix + "weight", &weight)
  if var b = bias {
    try body(prefix + "bias", &b)
    bias = b
  }
}
