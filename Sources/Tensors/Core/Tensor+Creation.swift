extension Tensor {
  /// A tensor of the given shape with every element equal to `value`.
  public init(repeating value: Float, shape: [Int]) {
    self.init(shape: shape, storage: TensorStorage(count: Shape.count(shape), repeating: value))
  }

  /// All zeros.
  public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }

  /// All ones.
  public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

  /// Elements drawn uniformly from [low, high) by `generator`.
  public static func uniform(
    _ shape: [Int], low: Float = 0, high: Float = 1, using generator: inout SeededGenerator
  ) -> Tensor {
    let s = TensorStorage(count: Shape.count(shape))
    for i in 0..<s.count { s.base[i] = low + (high - low) * generator.nextUnitFloat() }
    return Tensor(shape: shape, storage: s)
  }

  /// Elements drawn from N(mean, std²) by `generator`.
  public static func normal(
    _ shape: [Int], mean: Float = 0, std: Float = 1, using generator: inout SeededGenerator
  ) -> Tensor {
    let s = TensorStorage(count: Shape.count(shape))
    for i in 0..<s.count { s.base[i] = mean + std * generator.nextNormal() }
    return Tensor(shape: shape, storage: s)
  }

  /// A rank-1 tensor holding 0, 1, …, n−1.
  public static func arange(_ n: Int) -> Tensor {
    Tensor(shape: [n], scalars: (0..<n).map(Float.init))
  }
}
