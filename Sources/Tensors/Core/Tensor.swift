/// A dense, row-major Float32 tensor of any rank, with an optional place in an autodiff graph.
///
/// `Tensor` is a value: no one can see its storage change (it changes in place only when nothing
/// else holds it) and its graph node points only at the tensors it was computed from. Gradients
/// are returned by `gradients(of:wrt:createGraph:)`, never stored on tensors.
public struct Tensor: Sendable {
  /// The extent of each axis, outermost first. A scalar has an empty shape.
  public let shape: [Int]
  /// Written only through `accumulate`, when nothing else holds it.
  internal(set) var storage: TensorStorage
  let node: Node?

  init(shape: [Int], storage: TensorStorage, node: Node? = nil) {
    self.shape = shape
    self.storage = storage
    self.node = node
  }

  /// A tensor of the given shape holding `scalars` in row-major order.
  public init(shape: [Int], scalars: [Float]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
    precondition(
      Shape.count(shape) == scalars.count,
      "shape \(shape) needs \(Shape.count(shape)) scalars, got \(scalars.count)")
    self.init(shape: shape, storage: TensorStorage(scalars))
  }

  /// A rank-0 tensor.
  public init(_ scalar: Float) {
    self.init(shape: [], scalars: [scalar])
  }

  /// A rank-1 tensor.
  public init(_ scalars: [Float]) {
    self.init(shape: [scalars.count], scalars: scalars)
  }

  /// The number of axes.
  public var rank: Int { shape.count }

  /// The number of elements.
  public var scalarCount: Int { storage.count }

  /// The elements in row-major order.
  public var scalars: [Float] { Array(storage.buffer) }

  /// The single element of a one-element tensor.
  public var scalar: Float {
    precondition(scalarCount == 1, "scalar of a tensor with shape \(shape)")
    return storage.base[0]
  }

  /// Calls `body` with the elements, without copying them.
  public func withScalars<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    try body(storage.buffer)
  }

  /// True when gradients can flow back through this tensor.
  public var requiresGradient: Bool { node != nil }

  /// The same values as a new leaf of the graph, so gradients can be taken with respect to it.
  public func requiringGradient() -> Tensor {
    Tensor(shape: shape, storage: storage, node: Node(op: .leaf, inputs: []))
  }

  /// The same values, cut off from the graph.
  public func detached() -> Tensor {
    Tensor(shape: shape, storage: storage)
  }
}

extension Tensor: CustomStringConvertible {
  public var description: String {
    let shown = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
    return "Tensor(shape: \(shape), [\(shown)\(scalarCount > 8 ? ", …" : "")])"
  }
}
