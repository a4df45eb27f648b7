/// Batch normalisation of NCHW `x` by its own batch's per-channel mean and biased variance,
/// scaled by `weight` (γ) and shifted by `bias` (β), as one op: `(x − mean)/√(var + ε)·γ + β`.
///
/// Its input and weight gradients are ops of their own too, so a recorded backward pass keeps
/// one tensor per layer where the composition of elementwise ops kept five or six.
public func batchNorm(_ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float) -> Tensor {
  normalised(x, weight: weight, bias: bias, epsilon: epsilon, then: nil)
}

/// `activation(batchNorm(x, ...))` as one op (`Op.batchNormActivated`) for a sigmoid or a ReLU:
/// one pass where the two made two, and no normalised tensor kept for the backward passes, which
/// do not read it.
public func batchNorm(_ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float, then activation: Activation) -> Tensor {
  normalised(x, weight: weight, bias: bias, epsilon: epsilon, then: activation)
}

/// `batchNorm`, then `activation` where given, by one kernel pass: the op `.batchNorm`, or
/// `.batchNormActivated` with the activation.
private func normalised(_ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float, then activation: Activation?) -> Tensor {
  let p = ChannelPlanes(x.shape)
  precondition(weight.shape == [p.channels] && bias.shape == [p.channels], "batchNorm: parameters of \(x.shape)")
  let out = TensorStorage(count: x.scalarCount)
  p.withStatistics(of: x.storage, epsilon: epsilon) { stats in
    Kernels.batchNorm(
      x.storage.base, weight.storage.base, bias.storage.base, p, statistics: stats, then: activation, into: out.base)
  }
  let op = activation.map { Op.batchNormActivated(epsilon: epsilon, $0) } ?? .batchNorm(epsilon: epsilon)
  return Tensor.make(op, [x, weight, bias], shape: x.shape, storage: out)
}

extension Op {
  /// The pullback of a `batchNormActivated`'s activation, to the normalised values: from its
  /// output `y`, as `sigmoid`'s and `relu`'s rules take it (a ReLU's output is positive where
  /// its input is).
  static func activationPullback(_ activation: Activation, output y: Tensor, _ g: Tensor) -> Tensor {
    activation == .sigmoid
      ? Tensors.sigmoidGradient(output: y, upstream: g) : Tensors.reluGradient(input: y.detached(), upstream: g)
  }
}

/// The gradient of `batchNorm` with respect to its input, given the output gradient `g`.
public func batchNormInputGradient(_ g: Tensor, _ x: Tensor, weight: Tensor, epsilon: Float) -> Tensor {
  precondition(g.shape == x.shape, "batchNormInputGradient: \(g.shape) ≠ \(x.shape)")
  let out = batchNormInputGradientStorage(g, x, weight: weight, epsilon: epsilon)
  return Tensor.make(.batchNormInputGradient(epsilon: epsilon), [g, x, weight], shape: x.shape, storage: out)
}

/// `batchNormInputGradient` and `batchNormWeightGradient` of `g` (the same ops, recorded as
/// each is) by one kernel: one pass over `g` and `x` where the two made two.
public func batchNormGradients(_ g: Tensor, _ x: Tensor, weight: Tensor, epsilon: Float) -> (input: Tensor, weight: Tensor) {
  precondition(g.shape == x.shape, "batchNormGradients: \(g.shape) ≠ \(x.shape)")
  let gw = TensorStorage(count: ChannelPlanes(x.shape).channels)
  let gx = batchNormInputGradientStorage(g, x, weight: weight, epsilon: epsilon, weightGradient: gw)
  return (
    Tensor.make(.batchNormInputGradient(epsilon: epsilon), [g, x, weight], shape: x.shape, storage: gx),
    Tensor.make(.batchNormWeightGradient(epsilon: epsilon), [g, x], shape: [gw.count], storage: gw)
  )
}

/// The input gradient's elements (and, given `gw`, the weight gradient's into it) by batch
/// norm's kernel, with `x`'s statistics.
private func batchNormInputGradientStorage(
  _ g: Tensor, _ x: Tensor, weight: Tensor, epsilon: Float, weightGradient gw: TensorStorage? = nil
) -> TensorStorage {
  let out = TensorStorage(count: x.scalarCount)
  let p = ChannelPlanes(x.shape)
  p.withStatistics(of: x.storage, epsilon: epsilon) { stats in
    Kernels.batchNormInputGradient(
      g.storage.base, x.storage.base, weight.storage.base, p, statistics: stats, into: .init(out.base),
      weightGradient: gw?.base)
  }
  return out
}

/// The gradient of `batchNorm` with respect to its weight, given the output gradient `g`.
public func batchNormWeightGradient(_ g: Tensor, _ x: Tensor, epsilon: Float) -> Tensor {
  precondition(g.shape == x.shape, "batchNormWeightGradient: \(g.shape) ≠ \(x.shape)")
  let p = ChannelPlanes(x.shape)
  let out = TensorStorage(count: p.channels)
  p.withStatistics(of: x.storage, epsilon: epsilon) { stats in
    Kernels.batchNormWeightGradient(
      g.storage.base, x.storage.base, p, statistics: stats, into: out.base)
  }
  return Tensor.make(.batchNormWeightGradient(epsilon: epsilon), [g, x], shape: [p.channels], storage: out)
}

/// The per-channel pieces the second derivatives of batch norm are written in, as
/// differentiable ops: `s = 1/√(var + ε)`, `x̂ = (x − mean)·s`, and channel means.
struct BatchNormTerms {
  let s: Tensor, normalised: Tensor, count: Float

  init(_ x: Tensor, epsilon: Float) {
    let centred = x - Self.mean(x)
    s = 1 / (Self.mean(centred * centred) + epsilon).sqrt()
    normalised = centred * s
    count = Float(x.scalarCount / x.shape[1])
  }

  /// The mean of each channel, [1, C, 1, 1].
  static func mean(_ t: Tensor) -> Tensor { t.mean(alongAxes: [0, 2, 3], keepingDims: true) }

  /// `P z = z − mean(z) − x̂·mean(z·x̂)`: the projection both gradients apply.
  func project(_ z: Tensor, mean zm: Tensor, normalisedMean zx: Tensor) -> Tensor { z - zm - normalised * zx }
}

extension Op {
  /// The rules of the three batch-norm ops. With `L = <u, gx>` for the input gradient
  /// `gx = γ·s·P g`: `∂L/∂g = γ·s·P u` (P is symmetric), `∂L/∂γ = s·N·(mean(u·g) − ū·ḡ − b̄·ūx)` and
  /// `∂L/∂x = −γ·s²·(ūx·P g + b̄·P u + x̂·(mean(u·g) − ū·ḡ − b̄·ūx))`, where `ḡ`, `ū` are the
  /// channel means, `b̄ = mean(g·x̂)`, `ūx = mean(u·x̂)` and N the elements per channel.
  func batchNormPullback(_ u: Tensor, inputs x: [Tensor], needs: [Bool]) -> [Tensor?] {
    switch self {
    case .batchNorm(let epsilon):
      let (input, weight) = (x[0], x[1])
      let both = needs[0] && needs[1] ? Tensors.batchNormGradients(u, input, weight: weight, epsilon: epsilon) : nil
      return [
        both?.input ?? (needs[0] ? Tensors.batchNormInputGradient(u, input, weight: weight, epsilon: epsilon) : nil),
        both?.weight ?? (needs[1] ? Tensors.batchNormWeightGradient(u, input, epsilon: epsilon) : nil),
        needs[2] ? u.sum(alongAxes: [0, 2, 3]) : nil,
      ]
    case .batchNormInputGradient(let epsilon):
      let (g, input, weight) = (x[0], x[1], x[2])
      let t = BatchNormTerms(input, epsilon: epsilon)
      let gamma = weight.reshaped(to: [1, weight.scalarCount, 1, 1])
      let (gm, gx) = (BatchNormTerms.mean(g), BatchNormTerms.mean(g * t.normalised))
      let (um, ux) = (BatchNormTerms.mean(u), BatchNormTerms.mean(u * t.normalised))
      let cross = BatchNormTerms.mean(u * g) - um * gm - gx * ux
      return [
        needs[0] ? Tensors.batchNormInputGradient(u, input, weight: weight, epsilon: epsilon) : nil,
        needs[1]
          ? -(gamma * t.s * t.s)
            * (ux * t.project(g, mean: gm, normalisedMean: gx) + gx * t.project(u, mean: um, normalisedMean: ux)
              + t.normalised * cross) : nil,
        needs[2] ? (t.s * cross * t.count).reshaped(to: weight.shape) : nil,
      ]
    case .batchNormWeightGradient(let epsilon):
      let (g, input) = (x[0], x[1])
      let t = BatchNormTerms(input, epsilon: epsilon)
      let w = u.reshaped(to: [1, u.scalarCount, 1, 1])
      let (gm, gx) = (BatchNormTerms.mean(g), BatchNormTerms.mean(g * t.normalised))
      return [
        needs[0] ? w * t.normalised : nil,
        needs[1] ? w * t.s * t.project(g, mean: gm, normalisedMean: gx) : nil,
      ]
    default:
      preconditionFailure("not a batch-norm op: \(self)")
    }
  }
}
