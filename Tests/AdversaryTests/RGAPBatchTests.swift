import Adversary
import Tensors
import Testing

/// R-GAP on a batch: the images solved for jointly, told apart by their labels.
@Suite("R-GAP on a batch")
struct RGAPBatchTests {
  func attack(_ model: some Layer, _ images: Tensor, labels: [Int], classes: Int = 10) throws(RGAPError) -> (AttackResult, LeakageScore) {
    let shared = sharedGradient(model: AnyModel(model), input: images, targets: oneHot(labels, classes: classes))
    let r = try RecursiveInversion(model: model, sharedGradient: shared, inputShape: images.shape, classes: classes).run()
    return (r, Leakage.score(reconstruction: r.reconstruction, truth: images, labels: r.labels, trueLabels: labels))
  }

  @Test("CNN6 (leaky ReLU, no biases), three images of distinct classes: every image exactly")
  func cnn6Batch() throws {
    var gen = SeededGenerator(seed: 11)
    let model = CNN6(channels: 1, classes: 10, imageSize: 16, generator: &gen)
    let images = Tensor.uniform([3, 1, 16, 16], using: &gen)
    let (r, s) = try attack(model, images, labels: [7, 2, 5])
    #expect(r.labels.sorted() == [2, 5, 7])
    #expect(r.layers.count == 7 && r.layers.allSatisfy { $0.determined }, "\(r.layers.map(\.summary))")
    #expect(r.layers.first?.unknowns == 3 * 16 * 16)
    #expect(s.images.count == 3 && s.images.map(\.psnr).allSatisfy { $0 > 50 }, "PSNR \(s.images.map(\.psnr))")
  }

  @Test("a sigmoid MLP with biases, two images: the bias gradient joins the last layer's equations")
  func lenetPair() throws {
    var gen = SeededGenerator(seed: 12)
    let model = MLP(inputs: 64, hidden: [96], classes: 10, activation: .sigmoid, initializer: .pytorchDefault, generator: &gen)
    let images = Tensor.uniform([2, 1, 8, 8], using: &gen)
    let (r, s) = try attack(model, images, labels: [3, 8])
    #expect(r.layers.allSatisfy { $0.determined }, "\(r.layers.map(\.summary))")
    #expect(s.images.map(\.psnr).allSatisfy { $0 > 50 }, "PSNR \(s.images.map(\.psnr))")
  }

  @Test("two images of one class are told apart by their predictions when those differ")
  func duplicates() throws {
    var gen = SeededGenerator(seed: 13)
    let model = MLP(inputs: 64, hidden: [96], classes: 10, activation: .sigmoid, initializer: .dlgUniform, generator: &gen)
    let images = Tensor.uniform([3, 1, 8, 8], using: &gen)
    let (r, s) = try attack(model, images, labels: [3, 3, 8])
    #expect(r.labels.sorted() == [3, 3, 8])
    #expect(r.layers.allSatisfy { $0.determined }, "\(r.layers.map(\.summary))")
    #expect(s.images.map(\.psnr).allSatisfy { $0 > 50 }, "PSNR \(s.images.map(\.psnr))")
  }

  @Test("two images of one class whose predictions all but coincide are reported as one image lost")
  func indistinctDuplicates() throws {
    var gen = SeededGenerator(seed: 13)
    let model = CNN6(channels: 1, classes: 10, imageSize: 8, generator: &gen)
    let images = Tensor.uniform([2, 1, 8, 8], using: &gen)
    let (r, _) = try attack(model, images, labels: [4, 4])
    let top = try #require(r.layers.last)
    #expect(!top.determined && top.rank * 2 == top.unknowns, "\(top.summary)")
    #expect(top.conditioning < 1e-2, "\(top.summary)")
  }

  @Test("a batch a layer cannot pin down is reported, by count, naming the layer")
  func underdetermined() throws {
    var gen = SeededGenerator(seed: 14)
    let model = Sequential([
      Conv2d(3, 2, kernel: 3, stride: 2, padding: 1, initializer: .dlgUniform, generator: &gen), Activation.sigmoid,
      Flatten(), Linear(32, 10, initializer: .dlgUniform, generator: &gen),
    ])
    let images = Tensor.uniform([2, 3, 8, 8], using: &gen)
    let (r, s) = try attack(model, images, labels: [0, 1])
    // Two images' 2 × 32 outputs and the 54 weights' gradients, against 2 × 192 pixels.
    let first = try #require(r.layers.first)
    #expect(first.layer == "0" && !first.determined && first.rank == 2 * 32 + 54 && first.unknowns == 2 * 192, "\(first.summary)")
    #expect(first.summary.contains("by count") && first.iterations != nil)
    #expect(s.psnr < 30, "an underdetermined layer cannot give the images back (PSNR \(s.psnr))")
  }
}
