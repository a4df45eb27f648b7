import Tensors
import TestSupport
import Testing

/// A last (unrecorded) backward pass adds the gradients of sigmoid's, batch norm's and
/// concatenation's rules into the sums already there, by their kernels (`PendingGradient`);
/// recorded, the same rules are composed of ops and their results summed apart.
@Suite("Gradients added into their sums")
struct GradientSumTests {
  /// Every op with such a rule reads `s` and `b`, some twice, so that all but the first of
  /// their gradients land on a sum (the convolutions' as their paths allow, one sample at a time): the unrecorded gradients must equal the recorded ones.
  @Test("in place, as recorded", arguments: [1, 2])
  func addedAsRecorded(threads: Int) {
    let hold = BLASThreadsHold(threads: threads)
    defer { hold.release() }
    var gen = SeededGenerator(seed: 71)
    let shape = [2, 3, 24, 24]  // large enough for the passes to split at two threads
    let (a0, b0) = (Tensor.uniform(shape, low: -2, high: 2, using: &gen), Tensor.uniform(shape, low: -1, high: 1, using: &gen))
    let (w0, c0) = (Tensor.uniform([3], low: 0.5, high: 1.5, using: &gen), Tensor.uniform([3], low: -1, high: 1, using: &gen))
    let (pointwise, wide) = (
      Tensor.uniform([3, 3, 1, 1], low: -1, high: 1, using: &gen), Tensor.uniform([4, 3, 3, 3], low: -1, high: 1, using: &gen)
    )
    func grads(createGraph: Bool) -> [Tensor] {
      let (a, b, w, c) = (a0.requiringGradient(), b0.requiringGradient(), w0.requiringGradient(), c0.requiringGradient())
      let s = sigmoid(a)
      // The backward pass meets the terms last to first: `s` has a sum when the convolutions add.
      let terms = [
        conv2d(s, filter: wide, padding: 1),  // col2im that adds into the sum
        conv2d(s, filter: pointwise),  // products that add into it
        sigmoidGradient(output: s, upstream: b),
        sigmoidGradient(output: s, upstream: s),
        batchNormInputGradient(b, s, weight: w, epsilon: 1e-5),
        batchNormWeightGradient(b, s, epsilon: 1e-5).reshaped(to: [1, 3, 1, 1]).expanded(to: shape),
        batchNorm(s, weight: w, bias: c, epsilon: 1e-5),
        concat([s, b, s], alongAxis: 1),
      ]
      var seeded = SeededGenerator(seed: 72)
      let weights = terms.map { Tensor.uniform($0.shape, low: -1, high: 1, using: &seeded) }
      let loss = zip(weights, terms).map { ($0 * $1).sum() }.reduce(Tensor(0), +)
      return gradients(of: loss, wrt: [a, b, w, c], createGraph: createGraph)
    }
    let (added, recorded) = (grads(createGraph: false), grads(createGraph: true))
    for (name, (x, y)) in zip(["a", "b", "w", "c"], zip(added, recorded)) {
      #expect(x.shape == y.shape)
      let worst = zip(x.scalars, y.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
      #expect(worst < 1e-4, "∂/∂\(name): largest relative difference \(worst)")
    }
  }

  /// How a test's weight gradient relates to its input gradient of the same g and x.
  enum Pairing: CaseIterable, Sendable { case paired, weightFeedsInput, detachedGradient }

  /// A weight gradient and an input gradient of the same g and x are pulled back together
  /// (`BackwardGraph` pairs them), unless one feeds the other or they differ in what takes a
  /// gradient: with γ of the input gradient made from the weight gradient, the weight gradient's
  /// own gradient is not complete when the input gradient is met; with the weight gradient's g
  /// detached (the same storage, no node), no gradient of it may reach g.
  @Test("a batch-norm pair, and ones that must not pair", arguments: Pairing.allCases)
  func batchNormPairs(_ pairing: Pairing) {
    var gen = SeededGenerator(seed: 73)
    let shape = [2, 3, 10, 10]
    let (a0, b0) = (Tensor.uniform(shape, low: -2, high: 2, using: &gen), Tensor.uniform(shape, low: -1, high: 1, using: &gen))
    let w0 = Tensor.uniform([3], low: 0.5, high: 1.5, using: &gen)
    let (r, q) = (Tensor.uniform(shape, low: -1, high: 1, using: &gen), Tensor.uniform([3], low: -1, high: 1, using: &gen))
    func grads(createGraph: Bool) -> [Tensor] {
      let (a, b, w) = (a0.requiringGradient(), b0.requiringGradient(), w0.requiringGradient())
      let s = sigmoid(a)
      let gw = batchNormWeightGradient(pairing == .detachedGradient ? b.detached() : b, s, epsilon: 1e-5)
      let gamma = pairing == .weightFeedsInput ? sigmoid(gw) + w : w
      let gi = batchNormInputGradient(b, s, weight: gamma, epsilon: 1e-5)
      let loss = (gi * r).sum() + (gw * gw * q).sum()
      return gradients(of: loss, wrt: [a, b, w], createGraph: createGraph)
    }
    let (added, recorded) = (grads(createGraph: false), grads(createGraph: true))
    for (name, (x, y)) in zip(["a", "b", "w"], zip(added, recorded)) {
      let worst = zip(x.scalars, y.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
      #expect(worst < 1e-4, "∂/∂\(name): largest relative difference \(worst)")
    }
  }
}
