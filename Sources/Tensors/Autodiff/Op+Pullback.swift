extension Op {
  /// The gradients of a node's inputs given the gradient `g` of its `output`.
  ///
  /// Every rule is written in the library's own differentiable ops, so when the backward pass is
  /// recorded (`createGraph`) its results can be differentiated again, to any order. A rule may
  /// return a gradient of a broadcast shape; the caller sums it down to the input's shape.
  /// `needs[i]` is false where input `i` needs no gradient, so its work can be skipped. A last
  /// (unrecorded) backward pass takes `pullback(_:inputs:output:needs:into:)` instead where an op
  /// `addsIntoSums`: the same rules, by kernels that add into the gradients' sums.
  func pullback(_ g: Tensor, inputs x: [Tensor], output y: Tensor, needs: [Bool]) -> [Tensor?] {
    switch self {
    case .leaf:
      return []
    case .affine(let scale, _):
      return [g * scale]
    case .exp:
      return [g * y]
    case .log:
      return [g / x[0]]
    case .sqrt:
      return [(g / y) * 0.5]
    case .abs:
      return [g * x[0].detached().sign()]
    case .sigmoid:
      return [Tensors.sigmoidGradient(output: y, upstream: g)]
    case .sigmoidGradient:
      let (s, up) = (x[0], x[1])
      return [
        needs[0] ? g * up * s.affine(scale: -2, shift: 1) : nil,
        needs[1] ? Tensors.sigmoidGradient(output: s, upstream: g) : nil,
      ]
    case .tanh:
      return [g * (1 - y * y)]
    case .relu:
      return [Tensors.reluGradient(input: x[0].detached(), upstream: g)]
    case .reluGradient:
      return [nil, needs[1] ? Tensors.reluGradient(input: x[0].detached(), upstream: g) : nil]
    case .leakyRelu(let slope):
      let positive = x[0].detached() .> 0
      return [g * (positive * (1 - slope) + slope)]
    case .power(let p):
      if p == 2 { return [g * x[0].affine(scale: 2)] }
      if p == 1 { return [g] }
      return [g * (x[0].pow(p - 1) * p)]
    case .clamp(let lo, let hi):
      let v = x[0].detached()
      return [g * ((v .>= lo) * (v .<= hi))]
    case .add:
      return [g, g]
    case .subtract:
      return [g, needs[1] ? -g : nil]
    case .multiply:
      return [needs[0] ? g * x[1] : nil, needs[1] ? g * x[0] : nil]
    case .divide:
      return [needs[0] ? g / x[1] : nil, needs[1] ? -(g * y) / x[1] : nil]
    case .select:
      let c = x[0].detached()
      return [nil, needs[1] ? g * c : nil, needs[2] ? g * (1 - c) : nil]
    case .sum(let axes, let keepingDims):
      var kept = x[0].shape
      for a in axes { kept[a] = 1 }
      return [(keepingDims ? g : g.reshaped(to: kept)).expanded(to: x[0].shape)]
    case .squaredDistance:
      let scaled = Recording.isEnabled ? (x[0] - x[1]) * (g * 2) : scaledDifference(x[0], x[1], by: 2 * g.scalars[0])
      return [needs[0] ? scaled : nil, needs[1] ? -scaled : nil]
    case .reshape:
      return [g.reshaped(to: x[0].shape)]
    case .permute(let order):
      var inverse = [Int](repeating: 0, count: order.count)
      for (i, a) in order.enumerated() { inverse[a] = i }
      return [g.permuted(inverse)]
    case .expand:
      return [g.summed(toShape: x[0].shape)]
    case .concat(let axis):
      var start = 0
      return x.indices.map { i in
        let n = x[i].shape[axis]
        defer { start += n }
        guard needs[i] else { return nil }
        var starts = [Int](repeating: 0, count: g.rank)
        var ends = g.shape
        starts[axis] = start
        ends[axis] = start + n
        return g.sliced(starts: starts, ends: ends)
      }
    case .slice(let starts, let ends):
      let after = zip(x[0].shape, ends).map { $0 - $1 }
      return [g.padded(before: starts, after: after)]
    case .pad(let before, _, _):
      return [g.sliced(starts: before, ends: zip(before, x[0].shape).map { $0 + $1 })]
    case .shiftedStack(let padding, _):
      return [Tensors.shiftedSum(g, padding: padding, shape: x[0].shape)]
    case .shiftedSum(let padding, _):
      return [Tensors.shiftedStack(g, padding: padding, size: Array(x[0].shape[2...]))]
    case .matmul(let ta, let tb):
      let (a, b) = (x[0], x[1])
      let ga: Tensor? =
        !needs[0] ? nil
        : ta ? Tensors.matmul(b, g, transposeA: tb, transposeB: true)
        : Tensors.matmul(g, b, transposeB: !tb)
      let gb: Tensor? =
        !needs[1] ? nil
        : tb ? Tensors.matmul(g, a, transposeA: true, transposeB: ta)
        : Tensors.matmul(a, g, transposeA: !ta)
      return [ga, gb]
    // The three convolution ops are the partial derivatives of one trilinear form
    // T(x, w, gy) = <gy, conv2d(x, w)>, so each one's rule is made of the other two.
    case .conv2d(let geo):
      let (input, filter) = (x[0], x[1])
      return [
        needs[0] ? Tensors.conv2dInputGradient(g, filter: filter, geometry: geo, inputShape: input.shape) : nil,
        needs[1] ? Tensors.conv2dFilterGradient(input, g, geometry: geo, filterShape: filter.shape) : nil,
      ]
    case .conv2dInputGradient(let geo, _):
      let (gy, filter) = (x[0], x[1])
      return [
        needs[0] ? Tensors.conv2d(g, filter: filter, geometry: geo) : nil,
        needs[1] ? Tensors.conv2dFilterGradient(g, gy, geometry: geo, filterShape: filter.shape) : nil,
      ]
    case .conv2dFilterGradient(let geo, _):
      let (input, gy) = (x[0], x[1])
      return [
        needs[0] ? Tensors.conv2dInputGradient(gy, filter: g, geometry: geo, inputShape: input.shape) : nil,
        needs[1] ? Tensors.conv2d(input, filter: g, geometry: geo) : nil,
      ]
    case .batchNorm, .batchNormInputGradient, .batchNormWeightGradient:
      return batchNormPullback(g, inputs: x, needs: needs)
    case .batchNormActivated(let epsilon, let activation):
      return Op.batchNorm(epsilon: epsilon).batchNormPullback(
        Op.activationPullback(activation, output: y, g), inputs: x, needs: needs)
    case .gather(let axis):
      let zeros = Tensor.zeros(x[0].shape)
      return [Tensors.scatterAdd(zeros, axis: axis, index: x[1], source: g), nil]
    case .scatterAdd(let axis):
      return [needs[0] ? g : nil, nil, needs[2] ? Tensors.gather(g, axis: axis, index: x[1]) : nil]
    }
  }
}
