/// `out[i][j][k] = x[i][index[i][j][k]][k]` along `axis` (torch.gather). `index` holds whole
/// numbers and has `x`'s shape except along `axis`.
public func gather(_ x: Tensor, axis: Int, index: Tensor) -> Tensor {
  let axis = Shape.axis(axis, rank: x.rank)
  checkIndexShape(index.shape, against: x.shape, axis: axis, "gather")
  let out = TensorStorage(count: index.scalarCount)
  Kernels.gather(
    x.storage.base, AxisView(x.shape, axis: axis), index: index.storage.base,
    AxisView(index.shape, axis: axis), into: out.base)
  return Tensor.make(.gather(axis: axis), [x, index.detached()], shape: index.shape, storage: out)
}

/// `base` with each element of `source` added at its `index` along `axis` (torch.scatter_add).
public func scatterAdd(_ base: Tensor, axis: Int, index: Tensor, source: Tensor) -> Tensor {
  let axis = Shape.axis(axis, rank: base.rank)
  precondition(index.shape == source.shape, "scatterAdd: index \(index.shape) ≠ source \(source.shape)")
  checkIndexShape(index.shape, against: base.shape, axis: axis, "scatterAdd")
  let out = TensorStorage(count: base.scalarCount)
  out.base.update(from: base.storage.base, count: base.scalarCount)
  Kernels.scatterAdd(
    source.storage.base, index: index.storage.base, AxisView(index.shape, axis: axis),
    into: out.base, AxisView(base.shape, axis: axis))
  return Tensor.make(
    .scatterAdd(axis: axis), [base, index.detached(), source], shape: base.shape, storage: out)
}

/// `base` with the elements at `index` along `axis` replaced by `source` (torch.scatter with
/// distinct indices). Composed from `scatterAdd`, so it is differentiable.
public func scatter(_ base: Tensor, axis: Int, index: Tensor, source: Tensor) -> Tensor {
  let hit = scatterAdd(Tensor.zeros(base.shape), axis: axis, index: index, source: .ones(index.shape))
  let keep = hit .== 0
  return base * keep + scatterAdd(Tensor.zeros(base.shape), axis: axis, index: index, source: source)
}

private func checkIndexShape(_ index: [Int], against x: [Int], axis: Int, _ name: String) {
  precondition(
    index.count == x.count && index.indices.allSatisfy { $0 == axis || index[$0] == x[$0] },
    "\(name): index shape \(index) does not fit \(x) along axis \(axis)")
}

extension Tensor {
  /// The elements sorted ascending along `axis` and the indices they came from (as whole
  /// numbers). The values are a `gather`, so gradients flow back to where each came from.
  public func sorted(alongAxis axis: Int = -1, descending: Bool = false) -> (values: Tensor, indices: Tensor) {
    let axis = Shape.axis(axis, rank: rank)
    let v = AxisView(shape, axis: axis)
    let idx = TensorStorage(count: scalarCount)
    let x = storage.base
    var lane = [Float](repeating: 0, count: v.length)
    var order = [Int](repeating: 0, count: v.length)
    for o in 0..<v.outer {
      for i in 0..<v.inner {
        for k in 0..<v.length { lane[k] = x[(o * v.length + k) * v.inner + i] }
        Kernels.stableArgsort(lane, descending: descending, into: &order)
        for k in 0..<v.length { idx.base[(o * v.length + k) * v.inner + i] = Float(order[k]) }
      }
    }
    let indices = Tensor(shape: shape, storage: idx)
    return (gather(self, axis: axis, index: indices), indices)
  }
}

extension Tensor {
  /// `sortedValues` (ascending, one per element) placed where this tensor's elements of the same
  /// rank sit (ties in index order, as a stable sort orders them): the optimal transport of one
  /// 1-D value distribution onto the other. A constant: `Σ (x − x.rankAligned(s))²` has the
  /// value and the gradient of `Σ (sort(x) − s)²` without the gather and scatter of a sort in
  /// the graph (the order is piecewise constant, so the sort's derivative is this permutation).
  public func rankAligned(_ sortedValues: Tensor) -> Tensor {
    precondition(sortedValues.scalarCount == scalarCount, "rankAligned: \(sortedValues.scalarCount) values for \(scalarCount)")
    var order = [Int](repeating: 0, count: scalarCount)
    Kernels.stableArgsort(scalars, descending: false, into: &order)
    let sorted = sortedValues.scalars
    var aligned = [Float](repeating: 0, count: scalarCount)
    for k in 0..<scalarCount { aligned[order[k]] = sorted[k] }
    return Tensor(shape: shape, scalars: aligned)
  }
}
