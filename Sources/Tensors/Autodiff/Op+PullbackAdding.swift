extension Op {
  /// Whether `pullback(_:inputs:output:needs:into:)` serves this op in a last backward pass.
  var addsIntoSums: Bool {
    switch self {
    case .sigmoidGradient, .concat, .slice, .conv2d, .batchNorm, .batchNormActivated, .batchNormInputGradient,
      .batchNormWeightGradient:
      return true
    default: return false
    }
  }

  /// `pullback`'s rule for a last (unrecorded) backward pass, by kernels that add each needed
  /// input's gradient into `sums[i]`, that input's sum of gradients so far (nil: none yet), in
  /// place where the sum allows (`PendingGradient`). The ops are those whose gradients a DLG
  /// objective's last backward pass summed most: in DenseNet-121, the second-order rules of
  /// batch norm and sigmoid, slices, the slices of concatenations and the input gradients of
  /// 1×1 convolutions, some 90% of the 118 M elements an evaluation it added in passes of their
  /// own (a count by op).
  func pullback(_ g: Tensor, inputs x: [Tensor], output y: Tensor, needs: [Bool], into sums: inout [Tensor?]) {
    precondition(!Recording.isEnabled, "pullback(into:) serves unrecorded backward passes only")
    switch self {
    case .sigmoidGradient:
      let (s, up, count) = (x[0].storage.base, x[1].storage.base, y.scalarCount)
      if needs[0] && needs[1] {
        let d0 = PendingGradient(adding: &sums[0], shape: y.shape)
        let d1 = PendingGradient(adding: &sums[1], shape: y.shape)
        Kernels.sigmoidGradientPullback(
          s, up, g.storage.base, count: count, curvature: d0.destination, gradient: d1.destination)
        (sums[0], sums[1]) = (d0.finished(), d1.finished())
        return
      }
      if needs[0] {
        let d = PendingGradient(adding: &sums[0], shape: y.shape)
        Kernels.sigmoidCurvature(s, up, g.storage.base, count: count, into: d.destination)
        sums[0] = d.finished()
      }
      if needs[1] {
        let d = PendingGradient(adding: &sums[1], shape: y.shape)
        Kernels.sigmoidGradient(s, g.storage.base, count: count, into: d.destination)
        sums[1] = d.finished()
      }
    case .concat(let axis):
      var start = 0
      for i in x.indices {
        defer { start += x[i].shape[axis] }
        guard needs[i] else { continue }
        var starts = [Int](repeating: 0, count: g.rank)
        starts[axis] = start
        let strides = Shape.strides(g.shape)
        let d = PendingGradient(adding: &sums[i], shape: x[i].shape)
        Kernels.copy(
          g.storage.base + Shape.offset(of: starts, strides: strides), strides: strides,
          into: d.destination.pointer, strides: Shape.strides(x[i].shape), shape: x[i].shape,
          adding: d.destination.adding)
        sums[i] = d.finished()
      }
    case .slice(let starts, _):
      // Added where the slice lies, not padded to its source's size (when there is a sum).
      if needs[0] { PendingGradient.add(g, at: starts, to: &sums[0], shape: x[0].shape) }
    case .conv2d(let geo):
      let (input, filter) = (x[0], x[1])
      if needs[0] { Self.addInputGradient(g, filter, geo, input.shape, into: &sums[0]) }
      if needs[1] {
        PendingGradient.add(
          Tensors.conv2dFilterGradient(input, g, geometry: geo, filterShape: filter.shape), to: &sums[1],
          shape: filter.shape)
      }
    case .batchNorm, .batchNormInputGradient, .batchNormWeightGradient:
      batchNormPullback(g, inputs: x, needs: needs, into: &sums)
    case .batchNormActivated(let epsilon, let activation):
      Op.batchNorm(epsilon: epsilon).batchNormPullback(
        Op.activationPullback(activation, output: y, g), inputs: x, needs: needs, into: &sums)
    default:
      preconditionFailure("pullback(into:): no in-place rule for \(self)")
    }
  }

  /// A convolution's input gradient of `g`, added into `sum`: by the products themselves where
  /// the layer's path can add (`Kernels.unfoldsInputGradient`), else computed and then added.
  private static func addInputGradient(
    _ g: Tensor, _ filter: Tensor, _ geo: ConvGeometry, _ shape: [Int], into sum: inout Tensor?
  ) {
    let s = ConvShape(input: shape, filter: filter.shape, geometry: geo)
    guard Kernels.unfoldsInputGradient(s) else {
      let gx = Tensors.conv2dInputGradient(g, filter: filter, geometry: geo, inputShape: shape)
      return PendingGradient.add(gx, to: &sum, shape: shape)
    }
    let d = PendingGradient(adding: &sum, shape: shape)
    Kernels.conv2dInputGradient(
      g.storage.base, filter.storage, s, into: d.destination.pointer, adding: d.destination.adding)
    sum = d.finished()
  }
}
