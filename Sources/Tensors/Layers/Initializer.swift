/// How a model's weights and biases are first drawn.
public enum Initializer: String, Sendable, Codable, CaseIterable {
  /// DLG's: every weight and bias uniform in [−0.5, 0.5).
  case dlgUniform = "dlg-uniform"
  /// PyTorch's defaults for `nn.Conv2d` and `nn.Linear`: weights by Kaiming-uniform with
  /// a = √5, which is uniform in ±1/√fan_in, and biases uniform in ±1/√fan_in.
  case pytorchDefault = "pytorch"

  /// A weight of `shape` ([out, in] or [out, in/groups, kh, kw]); fan-in is the product of all
  /// but the first dimension.
  public func weight(_ shape: [Int], using gen: inout SeededGenerator) -> Tensor {
    switch self {
    case .dlgUniform: return .uniform(shape, low: -0.5, high: 0.5, using: &gen)
    case .pytorchDefault:
      let bound = 1 / Float(shape.dropFirst().reduce(1, *)).squareRoot()
      return .uniform(shape, low: -bound, high: bound, using: &gen)
    }
  }

  /// A bias of `count` elements for a layer with `fanIn` inputs per output.
  public func bias(_ count: Int, fanIn: Int, using gen: inout SeededGenerator) -> Tensor {
    switch self {
    case .dlgUniform: return .uniform([count], low: -0.5, high: 0.5, using: &gen)
    case .pytorchDefault:
      let bound = 1 / Float(fanIn).squareRoot()
      return .uniform([count], low: -bound, high: bound, using: &gen)
    }
  }
}
