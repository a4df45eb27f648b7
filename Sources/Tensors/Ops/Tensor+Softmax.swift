/// Softmax along `axis`, composed from differentiable ops (the max shift is a constant).
public func softmax(_ x: Tensor, alongAxis axis: Int = -1) -> Tensor {
  let shifted = x - x.detached().max(alongAxis: axis, keepingDims: true)
  let e = shifted.exp()
  return e / e.sum(alongAxis: axis, keepingDims: true)
}

/// Log-softmax along `axis`, composed from differentiable ops.
public func logSoftmax(_ x: Tensor, alongAxis axis: Int = -1) -> Tensor {
  let shifted = x - x.detached().max(alongAxis: axis, keepingDims: true)
  return shifted - shifted.exp().sum(alongAxis: axis, keepingDims: true).log()
}
