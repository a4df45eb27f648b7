import Adversary
import Tensors
import Testing

/// Attacks on a FedAvg update: a weight change after several local SGD steps on one image. The
/// adversary reads it as one mean gradient, −Δ / (η · steps); replaying the steps on the dummy
/// image instead matches what the client really computed.
@Suite("Attacks on FedAvg updates")
struct FedAvgAttackTests {
  static let (rate, steps): (Float, Int) = (0.5, 4)

  /// A sigmoid LeNet, an image, and the client's update after `steps` SGD steps on it, read as
  /// the adversary reads it.
  static func problem() -> (model: LeNet, truth: Tensor, shared: [Tensor]) {
    var gen = SeededGenerator(seed: 41)
    let model = LeNet(channels: 1, classes: 10, imageSize: 12, generator: &gen)
    let truth = Tensor.uniform([1, 1, 12, 12], using: &gen)
    var weights = model.parameters
    for _ in 0..<steps {
      let g = sharedGradient(model: model.withParameters(weights), input: truth, targets: oneHot([3], classes: 10))
      weights = zip(weights, g).map { $0 - $1 * rate }
    }
    let shared = zip(model.parameters, weights).map { ($0 - $1) * (1 / (rate * Float(steps))) }
    return (model, truth, shared)
  }

  @Test("one replayed step is the plain gradient")
  func oneStepIsTheGradient() {
    let (model, truth, shared) = Self.problem()
    let dummy = truth * 0.5
    let label = oneHot([3], classes: 10)
    let plain = DLGObjective(model: model, sharedGradient: shared).evaluate(input: dummy, labelLogits: nil, knownLabels: label)
    let replay = DLGObjective(model: model, sharedGradient: shared, localSteps: LocalSteps(steps: 1, learningRate: Self.rate))
      .evaluate(input: dummy, labelLogits: nil, knownLabels: label)
    #expect(abs(plain.value - replay.value) <= 1e-5 * max(1, abs(plain.value)))
    let gap = zip(plain.inputGradient.scalars, replay.inputGradient.scalars).map { abs($0 - $1) }.max() ?? 0
    #expect(gap < 1e-4)
  }

  @Test("replaying the local steps recovers the image where reading one gradient step does not")
  func replayRecovers() {
    let (model, truth, shared) = Self.problem()
    let inversion = GradientInversion(model: model, sharedGradient: shared, inputShape: truth.shape, classes: 10)
    func psnr(_ local: LocalSteps?) -> Double {
      let r = inversion.run(AttackConfiguration(method: .idlg, iterations: 100, seed: 1, localSteps: local))
      return Leakage.score(reconstruction: r.reconstruction, truth: truth, labels: r.labels, trueLabels: [3]).psnr
    }
    let oneStep = psnr(nil)
    let replayed = psnr(LocalSteps(steps: Self.steps, learningRate: Self.rate))
    #expect(replayed >= 30, "replayed: \(replayed) dB")
    #expect(replayed > oneStep + 10, "replayed \(replayed) dB, one step \(oneStep) dB")
  }
}
