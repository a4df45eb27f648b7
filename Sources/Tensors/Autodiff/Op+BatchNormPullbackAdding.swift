extension Op {
  /// The rules of `batchNormPullback` for a last backward pass, as `pullback(into:)` takes them:
  /// each layer-sized gradient by one kernel that adds it into its sum, the per-channel ones
  /// (γ's, β's) as small tensors added afterwards.
  func batchNormPullback(_ u: Tensor, inputs x: [Tensor], needs: [Bool], into sums: inout [Tensor?]) {
    switch self {
    case .batchNorm(let epsilon):
      let (input, weight) = (x[0], x[1])
      if needs[0] {
        // γ's gradient from the same sums, when it is wanted too.
        let gw = needs[1] ? TensorStorage(count: weight.scalarCount) : nil
        Self.addInputGradient(u, input, weight, epsilon: epsilon, into: &sums[0], weightGradient: gw)
        if let gw { PendingGradient.add(Tensor(shape: weight.shape, storage: gw), to: &sums[1], shape: weight.shape) }
      } else if needs[1] {
        PendingGradient.add(
          Tensors.batchNormWeightGradient(u, input, epsilon: epsilon), to: &sums[1], shape: weight.shape)
      }
      if needs[2] { PendingGradient.add(u.sum(alongAxes: [0, 2, 3]), to: &sums[2], shape: x[2].shape) }
    case .batchNormInputGradient(let epsilon):
      guard needs[1] || needs[2] else {
        if needs[0] { Self.addInputGradient(u, x[1], x[2], epsilon: epsilon, into: &sums[0]) }
        return
      }
      Self.batchNormPairPullback(u, nil, inputs: x, epsilon: epsilon, needs: needs, into: &sums)
    case .batchNormWeightGradient(let epsilon):
      let (g, input) = (x[0], x[1])
      let p = ChannelPlanes(input.shape)
      let dg = needs[0] ? PendingGradient(adding: &sums[0], shape: input.shape) : nil
      let dx = needs[1] ? PendingGradient(adding: &sums[1], shape: input.shape) : nil
      p.withStatistics(of: input.storage, epsilon: epsilon) { stats in
        Kernels.batchNormWeightGradientPullback(
          u.storage.base, g.storage.base, input.storage.base, p, statistics: stats, dg: dg?.destination,
          dx: dx?.destination)
      }
      if let dg { sums[0] = dg.finished() }
      if let dx { sums[1] = dx.finished() }
    default:
      preconditionFailure("not a batch-norm op: \(self)")
    }
  }

  /// The pullback of a batch-norm input gradient (inputs `x`: [g, input, γ]) of `u`, and, given
  /// `w`, of the weight gradient of the same g and input (`BackwardGraph` pairs them) of `w`, in
  /// one pass over the layer: their gradients of g and of the input go to the same sums. ∂L/∂g
  /// comes from the kernel's sums of u, ∂L/∂γ from its cross terms.
  static func batchNormPairPullback(
    _ u: Tensor, _ w: Tensor?, inputs x: [Tensor], epsilon: Float, needs: [Bool], into sums: inout [Tensor?]
  ) {
    let (g, input, weight) = (x[0], x[1], x[2])
    let p = ChannelPlanes(input.shape)
    let du = needs[0] ? PendingGradient(adding: &sums[0], shape: input.shape) : nil
    let dx = needs[1] ? PendingGradient(adding: &sums[1], shape: input.shape) : nil
    let dGamma = TensorStorage(count: p.channels)
    p.withStatistics(of: input.storage, epsilon: epsilon) { stats in
      Kernels.batchNormInputGradientPullback(
        u.storage.base, g.storage.base, input.storage.base, weight.storage.base, p, statistics: stats,
        weightUpstream: w?.storage.base, du: du?.destination, dx: dx?.destination, dGamma: dGamma.base)
    }
    if let du { sums[0] = du.finished() }
    if let dx { sums[1] = dx.finished() }
    if needs[2] { PendingGradient.add(Tensor(shape: weight.shape, storage: dGamma), to: &sums[2], shape: weight.shape) }
  }

  /// Batch norm's input gradient of `u`, added into `sum`.
  private static func addInputGradient(
    _ u: Tensor, _ input: Tensor, _ weight: Tensor, epsilon: Float, into sum: inout Tensor?,
    weightGradient: TensorStorage? = nil
  ) {
    let p = ChannelPlanes(input.shape)
    let d = PendingGradient(adding: &sum, shape: input.shape)
    p.withStatistics(of: input.storage, epsilon: epsilon) { stats in
      Kernels.batchNormInputGradient(
        u.storage.base, input.storage.base, weight.storage.base, p, statistics: stats, into: d.destination,
        weightGradient: weightGradient?.base)
    }
    sum = d.finished()
  }
}
