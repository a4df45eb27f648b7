import Adversary
import Tensors
import Testing

@Suite("Label recovery from the last layer's gradient")
struct LabelRecoveryTests {
  @Test("batch 1: the sign rule finds every label, for sigmoid and ReLU features", arguments: [Activation.sigmoid, .relu])
  func batchOneIsExact(activation: Activation) {
    var gen = SeededGenerator(seed: 21)
    let model = LeNet(channels: 3, classes: 20, imageSize: 16, activation: activation, generator: &gen)
    for label in 0..<20 {
      let x = Tensor.uniform([1, 3, 16, 16], using: &gen)
      let g = sharedGradient(model: model, input: x, targets: oneHot([label], classes: 20))
      #expect(LabelRecovery.labels(sharedGradient: g, classes: 20, batch: 1) == [label])
    }
  }

  @Test("batch > 1: distinct labels are all found, and repeated labels are counted")
  func batchCounting() {
    var gen = SeededGenerator(seed: 22)
    let model = LeNet(channels: 1, classes: 10, imageSize: 12, generator: &gen)
    let p = LabelRecovery.meanPrediction(of: model, imageShape: [1, 12, 12])
    #expect(abs(p.reduce(0, +) - 1) < 1e-5)
    for truth in [[7, 2, 9, 0], [3, 3, 3, 8], [1, 1, 5, 5], [4, 4, 4, 4]] {
      let x = Tensor.uniform([4, 1, 12, 12], using: &gen)
      let g = sharedGradient(model: model, input: x, targets: oneHot(truth, classes: 10))
      #expect(LabelRecovery.labels(sharedGradient: g, classes: 10, batch: 4, meanPrediction: p) == truth.sorted())
    }
  }

  @Test("the counting rule on a hand-made gradient: more negative rows than slots, and fewer")
  func countingRule() {
    // Row sums: class 0: −6, class 1: +1, class 2: −2, class 3: −1.
    let w = Tensor(shape: [4, 2], scalars: [-3, -3, 0.5, 0.5, -1, -1, -0.5, -0.5])
    let g = [Tensor.zeros([4, 3]), w, Tensor.zeros([4])]
    #expect(LabelRecovery.labels(sharedGradient: g, classes: 4, batch: 2) == [0, 2])
    #expect(LabelRecovery.labels(sharedGradient: g, classes: 4, batch: 1) == [0])
    // Five slots for three present classes: class 0 (−6) takes the extra two (−6/2, −6/3 ≥ −2).
    #expect(LabelRecovery.labels(sharedGradient: g, classes: 4, batch: 5) == [0, 0, 0, 2, 3])
  }
}
