import Adversary
import Tensors
import Testing

@Suite("DLG objective")
struct ObjectiveTests {
  let model: LeNet
  let input: Tensor
  let onehot: Tensor
  let shared: [Tensor]

  init() {
    var gen = SeededGenerator(seed: 4)
    model = LeNet(channels: 1, classes: 4, imageSize: 12, generator: &gen)
    input = .uniform([2, 1, 12, 12], using: &gen)
    onehot = oneHot([1, 3], classes: 4)
    shared = sharedGradient(model: model, input: input, targets: onehot)
  }

  @Test("the distance vanishes at the true image and labels, and not elsewhere")
  func zeroAtTheTruth() {
    for distance in GradientDistance.allCases {
      let objective = DLGObjective(model: model, sharedGradient: shared, distance: distance)
      let atTruth = objective.evaluate(input: input, labelLogits: nil, knownLabels: onehot)
      #expect(abs(atTruth.value) < 1e-5, "\(distance) at the truth: \(atTruth.value)")
      #expect(atTruth.labelGradient == nil)
      #expect(atTruth.inputGradient.abs().max().scalar < 1e-3)
      let elsewhere = objective.evaluate(input: input * 0.5, labelLogits: nil, knownLabels: onehot)
      #expect(elsewhere.value > 1e-4, "\(distance) away from the truth: \(elsewhere.value)")
    }
  }

  @Test("a step against the gradient lowers the L2 objective")
  func gradientIsADescentDirection() {
    var gen = SeededGenerator(seed: 8)
    let objective = DLGObjective(model: model, sharedGradient: shared)
    let x = Tensor.normal(input.shape, using: &gen)
    let y = Tensor.normal(onehot.shape, using: &gen)
    let r = objective.evaluate(input: x, labelLogits: y)
    let norm2 = (r.inputGradient * r.inputGradient).sum().scalar
      + (r.labelGradient! * r.labelGradient!).sum().scalar
    let step = 1e-3 / norm2.squareRoot()
    let next = objective.evaluate(input: x - r.inputGradient * step, labelLogits: y - r.labelGradient! * step)
    #expect(next.value < r.value)
  }
}

@Suite("WDLG's Wasserstein term")
struct WassersteinTermTests {
  @Test("it ignores where values sit, never exceeds the matching term, and adds to it")
  func properties() {
    var gen = SeededGenerator(seed: 41)
    let target = [Tensor.normal([5, 7], using: &gen), Tensor.normal([9], using: &gen)]
    let dummy = [Tensor.normal([5, 7], using: &gen), Tensor.normal([9], using: &gen)]
    let reversed = target.map { t in
      Tensor(shape: t.shape, scalars: t.scalars.reversed())
    }
    let l2 = GradientDistance.l2(dummy, target).scalar
    let w = GradientDistance.wasserstein(dummy, target).scalar - l2
    let sortedMean = zip(dummy, target).map { d, t in
      GradientDistance.sortedWasserstein([d], [t]).scalar * Float(t.scalarCount)
    }.reduce(0, +)
    #expect(abs(w - sortedMean) < 1e-3 * sortedMean)
    #expect(w <= l2 + 1e-4)
    let wReversed = GradientDistance.wasserstein(dummy, reversed).scalar - GradientDistance.l2(dummy, reversed).scalar
    #expect(abs(wReversed - w) < 1e-3 * w)
    #expect(abs(GradientDistance.l2(dummy, reversed).scalar - l2) > 1)
  }
}
