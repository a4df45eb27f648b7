import Adversary
import Tensors
import Testing

/// R-GAP: exact recovery where its conditions hold, a warning where a layer is rank-deficient,
/// and a clear refusal where they do not hold.
@Suite("R-GAP")
struct RGAPTests {
  func attack(_ model: any Layer, image: Tensor, label: Int, classes: Int = 10) throws(RGAPError) -> (AttackResult, LeakageScore) {
    let shared = sharedGradient(model: AnyModel(model), input: image, targets: oneHot([label], classes: classes))
    let r = try GradientInversion(model: AnyModel(model), sharedGradient: shared, inputShape: image.shape, classes: classes)
      .attack(AttackConfiguration(method: .rgap))
    return (r, Leakage.score(reconstruction: r.reconstruction, truth: image, labels: r.labels, trueLabels: [label]))
  }

  @Test("DLG's LeNet (sigmoid, biases): the image exactly, every layer at full rank")
  func lenet() throws {
    var gen = SeededGenerator(seed: 7)
    let model = LeNet(channels: 3, classes: 10, imageSize: 16, generator: &gen)
    let image = Tensor.uniform([1, 3, 16, 16], using: &gen)
    let (r, s) = try attack(model, image: image, label: 4)
    #expect(s.psnr > 60, "PSNR \(s.psnr)")
    #expect(r.labels == [4] && r.method == .rgap && r.iterations == 0)
    #expect(r.layers.map(\.layer) == ["body.0", "body.2", "body.4", "fc"])
    #expect(r.layers.allSatisfy { $0.determined }, "\(r.layers.map(\.summary))")
    #expect(r.distance < 1e-6, "gradient distance \(r.distance)")
  }

  @Test("CNN6 (leaky ReLU, no biases): the last layer's scale from the soft-max equation")
  func cnn6() throws {
    var gen = SeededGenerator(seed: 3)
    let model = CNN6(channels: 3, classes: 10, imageSize: 16, generator: &gen)
    let image = Tensor.uniform([1, 3, 16, 16], using: &gen)
    let (r, s) = try attack(model, image: image, label: 8)
    #expect(s.psnr > 30, "PSNR \(s.psnr)")
    #expect(r.labels == [8])
    #expect(r.layers.count == 7 && r.layers.allSatisfy { $0.determined })
  }

  @Test("a multilayer perceptron: a linear layer below the last one")
  func mlp() throws {
    var gen = SeededGenerator(seed: 5)
    let model = MLP(inputs: 64, hidden: [96], classes: 10, activation: .tanh, initializer: .pytorchDefault, generator: &gen)
    let image = Tensor.uniform([1, 1, 8, 8], using: &gen)
    let (r, s) = try attack(model, image: image, label: 1)
    #expect(s.psnr > 60, "PSNR \(s.psnr)")
    #expect(r.layers.map(\.unknowns) == [64, 96])
  }

  @Test("outputs behind a saturated sigmoid are reported, not inverted silently")
  func saturated() throws {
    var gen = SeededGenerator(seed: 5)
    let plain = MLP(inputs: 64, hidden: [96], classes: 10, activation: .sigmoid, initializer: .pytorchDefault, generator: &gen)
    // Weights 40 times larger drive many hidden sigmoids to within 1e-5 of 0 or 1.
    let model = plain.withParameters(plain.parameters.map { $0 * 40 })
    let image = Tensor.uniform([1, 1, 8, 8], using: &gen)
    let (r, _) = try attack(model, image: image, label: 1)
    let first = try #require(r.layers.first)
    #expect(!first.determined && (first.saturated ?? 0) > 0, "\(first.summary)")
    #expect(first.summary.contains("outputs through a saturated activation"))
    let (unsaturated, s) = try attack(plain, image: image, label: 1)
    #expect(unsaturated.layers.allSatisfy { $0.saturated == nil } && s.psnr > 60, "\(unsaturated.layers.map(\.summary)), \(s.psnr) dB")
  }

  @Test("a layer with fewer equations than unknowns is reported rank-deficient, not solved silently")
  func rankDeficient() throws {
    var gen = SeededGenerator(seed: 9)
    let model = Sequential([
      Conv2d(3, 1, kernel: 5, stride: 2, padding: 2, initializer: .dlgUniform, generator: &gen), Activation.sigmoid,
      Flatten(), Linear(64, 10, initializer: .dlgUniform, generator: &gen),
    ])
    let image = Tensor.uniform([1, 3, 16, 16], using: &gen)
    let (r, s) = try attack(model, image: image, label: 2)
    let first = try #require(r.layers.first)
    #expect(first.unknowns == 768 && first.equations == 75 + 64)
    #expect(!first.determined && first.rank <= 139)
    #expect(first.summary.contains("rank \(first.rank) of 768"))
    #expect(s.psnr < 30, "an underdetermined layer cannot give the image back (PSNR \(s.psnr))")
    #expect(r.layers.last!.determined)
  }

  @Test("models outside R-GAP's conditions are refused, naming the layer and the reason")
  func refusals() {
    var gen = SeededGenerator(seed: 1)
    let image = Tensor.uniform([1, 3, 16, 16], using: &gen)
    let relu = LeNet(channels: 3, classes: 10, imageSize: 16, activation: .relu, generator: &gen)
    #expect(throws: RGAPError.notInvertible(name: "body.1", activation: "ReLU")) {
      _ = try attack(relu, image: image, label: 0)
    }
    let pooled = Sequential([
      Conv2d(3, 4, kernel: 3, padding: 1, initializer: .dlgUniform, generator: &gen), Activation.sigmoid,
      MaxPool2d(kernel: 2), Flatten(), Linear(256, 10, initializer: .dlgUniform, generator: &gen),
    ])
    do {
      _ = try attack(pooled, image: image, label: 0)
      Issue.record("pooling was accepted")
    } catch {
      #expect(error.description.contains("'2'") && error.description.contains("pooling"), "\(error)")
    }
    let resnet = ResNet18(channels: 3, classes: 10, stem: .cifar, activation: .sigmoid, initializer: .pytorchDefault, generator: &gen)
    do {
      _ = try attack(resnet, image: image, label: 0)
      Issue.record("ResNet-18 was accepted")
    } catch {
      #expect(error.description.contains("ResNet18") && error.description.contains("batch norm"), "\(error)")
    }
    let wide = MLP(inputs: 3 * 96 * 96, hidden: [8], classes: 10, activation: .sigmoid, initializer: .pytorchDefault, generator: &gen)
    do {
      _ = try attack(wide, image: Tensor.uniform([1, 3, 96, 96], using: &gen), label: 0)
      Issue.record("a 27,648-unknown layer was accepted")
    } catch {
      #expect(error.description.contains("'body.1'") && error.description.contains("16384"), "\(error)")
    }
  }
}
