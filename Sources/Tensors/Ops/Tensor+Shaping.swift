extension Tensor {
  /// The same elements in a new shape; one dimension may be −1 and is then inferred.
  public func reshaped(to newShape: [Int]) -> Tensor {
    var target = newShape
    if let i = newShape.firstIndex(of: -1) {
      let known = newShape.enumerated().filter { $0.0 != i }.reduce(1) { $0 * $1.1 }
      precondition(known > 0 && scalarCount % known == 0, "cannot reshape \(shape) to \(newShape)")
      target[i] = scalarCount / known
    }
    precondition(Shape.count(target) == scalarCount, "cannot reshape \(shape) to \(newShape)")
    if target == shape { return self }
    return Tensor.make(.reshape, [self], shape: target, storage: storage)
  }

  /// Keeps the first axis and merges the rest.
  public func flattened(startingAt axis: Int = 1) -> Tensor {
    reshaped(to: Array(shape[..<axis]) + [Shape.count(Array(shape[axis...]))])
  }

  /// Reorders the axes: axis `i` of the result is axis `order[i]` of `self`.
  public func permuted(_ order: [Int]) -> Tensor {
    precondition(order.sorted() == Array(0..<rank), "permutation \(order) for rank \(rank)")
    if order == Array(0..<rank) { return self }
    let newShape = order.map { shape[$0] }
    let own = Shape.strides(shape)
    let out = TensorStorage(count: scalarCount)
    Kernels.copy(
      storage.base, strides: order.map { own[$0] }, into: out.base, strides: Shape.strides(newShape),
      shape: newShape)
    return Tensor.make(.permute(order), [self], shape: newShape, storage: out)
  }

  /// Swaps the last two axes.
  public func transposed() -> Tensor {
    precondition(rank >= 2, "transposed() needs rank ≥ 2")
    var order = Array(0..<rank)
    order.swapAt(rank - 1, rank - 2)
    return permuted(order)
  }

  /// Broadcasts to `target` (NumPy rules), copying.
  public func expanded(to target: [Int]) -> Tensor {
    if target == shape { return self }
    precondition(Shape.broadcast(shape, target) == target, "cannot expand \(shape) to \(target)")
    let out = TensorStorage(count: Shape.count(target))
    Kernels.copy(
      storage.base, strides: Shape.broadcastStrides(shape, to: target), into: out.base,
      strides: Shape.strides(target), shape: target)
    return Tensor.make(.expand, [self], shape: target, storage: out)
  }

  /// The box `[starts, ends)` of the tensor.
  public func sliced(starts: [Int], ends: [Int]) -> Tensor {
    precondition(starts.count == rank && ends.count == rank, "slice bounds need one entry per axis")
    for d in 0..<rank {
      precondition(
        0 <= starts[d] && starts[d] <= ends[d] && ends[d] <= shape[d],
        "slice \(starts)..<\(ends) out of bounds for \(shape)")
    }
    if starts.allSatisfy({ $0 == 0 }) && ends == shape { return self }
    let newShape = zip(starts, ends).map { $1 - $0 }
    let own = Shape.strides(shape)
    let offset = Shape.offset(of: starts, strides: own)
    let out = TensorStorage(count: Shape.count(newShape))
    Kernels.copy(
      storage.base + offset, strides: own, into: out.base, strides: Shape.strides(newShape),
      shape: newShape)
    return Tensor.make(.slice(starts: starts, ends: ends), [self], shape: newShape, storage: out)
  }

  /// The range `range` along one axis.
  public func sliced(alongAxis axis: Int, _ range: Range<Int>) -> Tensor {
    let axis = Shape.axis(axis, rank: rank)
    var starts = [Int](repeating: 0, count: rank)
    var ends = shape
    starts[axis] = range.lowerBound
    ends[axis] = range.upperBound
    return sliced(starts: starts, ends: ends)
  }

  /// Widens each axis by `before[d]` and `after[d]` elements of `value`.
  public func padded(before: [Int], after: [Int], value: Float = 0) -> Tensor {
    precondition(before.count == rank && after.count == rank, "padding needs one entry per axis")
    precondition(before.allSatisfy { $0 >= 0 } && after.allSatisfy { $0 >= 0 }, "negative padding")
    if before.allSatisfy({ $0 == 0 }) && after.allSatisfy({ $0 == 0 }) { return self }
    let newShape = (0..<rank).map { before[$0] + shape[$0] + after[$0] }
    let outStrides = Shape.strides(newShape)
    let out = TensorStorage(count: Shape.count(newShape), repeating: value)
    let offset = Shape.offset(of: before, strides: outStrides)
    Kernels.copy(
      storage.base, strides: Shape.strides(shape), into: out.base + offset, strides: outStrides,
      shape: shape)
    return Tensor.make(
      .pad(before: before, after: after, value: value), [self], shape: newShape, storage: out)
  }
}

/// Joins tensors along `axis`; all other axes must agree.
public func concat(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
  precondition(!tensors.isEmpty, "concat of no tensors")
  let first = tensors[0]
  let axis = Shape.axis(axis, rank: first.rank)
  var shape = first.shape
  shape[axis] = 0
  for t in tensors {
    precondition(
      t.rank == first.rank
        && t.shape.enumerated().allSatisfy { $0.0 == axis || $0.1 == first.shape[$0.0] },
      "concat: \(t.shape) does not fit \(first.shape) along axis \(axis)")
    shape[axis] += t.shape[axis]
  }
  let outStrides = Shape.strides(shape)
  let out = TensorStorage(count: Shape.count(shape))
  var offset = 0
  for t in tensors {
    Kernels.copy(
      t.storage.base, strides: Shape.strides(t.shape), into: out.base + offset * outStrides[axis],
      strides: outStrides, shape: t.shape)
    offset += t.shape[axis]
  }
  return Tensor.make(.concat(axis: axis), tensors, shape: shape, storage: out)
}
