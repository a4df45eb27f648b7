import Adversary
import Tensors
import Testing

/// The dummy batch's start: at batch 2 and above DLG's standard-normal start stalls far from the
/// images on the 32×32 LeNet, where a start uniform over the pixel range recovers far more
/// (docs/attacks.md has the figures); a single image keeps DLG's start.
@Suite("Dummy starts for a batch")
struct BatchStartTests {
  let model: LeNet
  let truth: Tensor
  let labels = [2, 6]
  let inversion: GradientInversion<LeNet>

  init() {
    var gen = SeededGenerator(seed: 7)
    model = LeNet(channels: 3, classes: 10, imageSize: 16, generator: &gen)
    truth = Tensor.uniform([2, 3, 16, 16], using: &gen)
    let shared = sharedGradient(model: model, input: truth, targets: oneHot(labels, classes: 10))
    inversion = GradientInversion(model: model, sharedGradient: shared, inputShape: truth.shape, classes: 10)
  }

  @Test("a batch starts uniform over the pixel range, one image standard normal, unless asked")
  func startsWhereAsked() {
    #expect(DummyInitialization.automatic(batch: 2) == .uniform && DummyInitialization.automatic(batch: 1) == .normal)
    func firstDummy(_ start: DummyInitialization?, range: ClosedRange<Float> = 0...1) -> [Float] {
      var first: Tensor?
      _ = inversion.run(AttackConfiguration(method: .idlg, iterations: 1, pixelRange: range, initialization: start)) { p in
        if first == nil { first = p.reconstruction }
      }
      return first?.scalars ?? []
    }
    let uniform = firstDummy(nil, range: -2...0.5)
    #expect(uniform.count == truth.scalarCount && uniform.allSatisfy { (-2...0.5).contains($0) })
    let normal = firstDummy(.normal)
    #expect(normal.contains { $0 < -1 } && normal.contains { $0 > 2 })
  }

  @Test("iDLG recovers a toy batch of two from the default start")
  func recoversABatch() {
    let r = inversion.run(AttackConfiguration(method: .idlg, iterations: 100, seed: 3))
    let s = Leakage.score(reconstruction: r.reconstruction, truth: truth, labels: r.labels, trueLabels: labels)
    #expect(s.psnr >= 30, "PSNR \(s.psnr)")
    #expect(s.images.allSatisfy { $0.psnr >= 30 }, "per image \(s.images.map(\.psnr))")
  }
}
