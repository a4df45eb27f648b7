extension Tensor {
  /// The sum over `axes` (all axes when nil), dropping them unless `keepingDims`.
  public func sum(alongAxes axes: [Int]? = nil, keepingDims: Bool = false) -> Tensor {
    let axes = Array(Set((axes ?? Array(0..<rank)).map { Shape.axis($0, rank: rank) })).sorted()
    var kept = shape
    for a in axes { kept[a] = 1 }
    let outShape = keepingDims ? kept : shape.indices.filter { !axes.contains($0) }.map { shape[$0] }
    let out = TensorStorage(count: Shape.count(kept))
    Kernels.sum(storage.base, shape: shape, into: out.base, reducedShape: kept)
    return Tensor.make(.sum(axes: axes, keepingDims: keepingDims), [self], shape: outShape, storage: out)
  }

  /// The sum over one axis.
  public func sum(alongAxis axis: Int, keepingDims: Bool = false) -> Tensor {
    sum(alongAxes: [axis], keepingDims: keepingDims)
  }

  /// The mean over `axes` (all axes when nil).
  public func mean(alongAxes axes: [Int]? = nil, keepingDims: Bool = false) -> Tensor {
    let axes = (axes ?? Array(0..<rank)).map { Shape.axis($0, rank: rank) }
    let n = axes.reduce(1) { $0 * shape[$1] }
    return sum(alongAxes: axes, keepingDims: keepingDims) * (1 / Float(n))
  }

  /// Sums broadcast axes away so the result has `target`'s shape (the reverse of broadcasting).
  public func summed(toShape target: [Int]) -> Tensor {
    if shape == target { return self }
    let lead = rank - target.count
    precondition(lead >= 0, "cannot sum \(shape) to \(target)")
    var axes = Array(0..<lead)
    for (i, d) in target.enumerated() where d == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
    let reduced = axes.isEmpty ? self : sum(alongAxes: axes, keepingDims: true)
    return reduced.shape == target ? reduced : reduced.reshaped(to: target)
  }

  /// The maximum over one axis; the gradient flows to the first maximal element.
  public func max(alongAxis axis: Int, keepingDims: Bool = false) -> Tensor {
    let axis = Shape.axis(axis, rank: rank)
    let picked = gather(self, axis: axis, index: argmax(alongAxis: axis, keepingDims: true))
    return keepingDims ? picked : picked.reshaped(to: shape.enumerated().filter { $0.0 != axis }.map(\.1))
  }

  /// The maximum of all elements.
  public func max() -> Tensor { reshaped(to: [scalarCount]).max(alongAxis: 0) }

  /// The index of the first maximum along `axis`, as whole numbers in a constant tensor.
  public func argmax(alongAxis axis: Int, keepingDims: Bool = false) -> Tensor {
    let axis = Shape.axis(axis, rank: rank)
    let v = AxisView(shape, axis: axis)
    precondition(v.length > 0, "argmax of an empty axis")
    var kept = shape
    kept[axis] = 1
    let out = TensorStorage(count: v.outer * v.inner)
    let x = storage.base
    for o in 0..<v.outer {
      for i in 0..<v.inner {
        var best = x[o * v.length * v.inner + i]
        var at = 0
        for k in 1..<v.length {
          let e = x[(o * v.length + k) * v.inner + i]
          if e > best || (best.isNaN && !e.isNaN) { (best, at) = (e, k) }
        }
        out.base[o * v.inner + i] = Float(at)
      }
    }
    var outShape = kept
    if !keepingDims { outShape.remove(at: axis) }
    return Tensor(shape: outShape, storage: out)
  }
}
