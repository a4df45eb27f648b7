import Adversary
import Tensors
import Testing

/// An optimising attack started from R-GAP's closed-form images (`initialization: .rgap`).
@Suite("Attacks started from R-GAP")
struct RGAPStartTests {
  /// A strided convolution that leaves two images' pixels under-determined: R-GAP's images are
  /// only part of the answer, so there is something left for the optimisation to find.
  func setting() -> (model: Sequential, images: Tensor, inversion: GradientInversion<Sequential>) {
    var gen = SeededGenerator(seed: 14)
    let model = Sequential([
      Conv2d(3, 2, kernel: 3, stride: 2, padding: 1, initializer: .dlgUniform, generator: &gen), Activation.sigmoid,
      Flatten(), Linear(32, 10, initializer: .dlgUniform, generator: &gen),
    ])
    let images = Tensor.uniform([2, 3, 8, 8], using: &gen)
    let shared = sharedGradient(model: AnyModel(model), input: images, targets: oneHot([0, 1], classes: 10))
    return (model, images, GradientInversion(model: model, sharedGradient: shared, inputShape: images.shape, classes: 10))
  }

  @Test("iDLG from R-GAP starts at R-GAP's images and labels, and moves on from there")
  func startsThere() throws {
    let (_, _, inversion) = setting()
    let closed = try inversion.attack(AttackConfiguration(method: .rgap))
    let polished = try inversion.attack(AttackConfiguration(method: .idlg, iterations: 50, initialization: .rgap))
    #expect(polished.labels == closed.labels)
    let first = try #require(polished.history.first)
    #expect(abs(first - closed.distance) <= 1e-3 * closed.distance, "started at \(first), R-GAP ended at \(closed.distance)")
    // R-GAP's distance is near 1e-14 here, where L-BFGS's fixed tolerances would stop every
    // step at once (50 recoveries): the start's objective is scaled to 1.
    #expect(polished.distance < closed.distance, "\(closed.distance) → \(polished.distance)")
    #expect(polished.recoveries < 25, "\(polished.recoveries) of 50 steps stalled")
  }

  @Test("an R-GAP start on a model R-GAP refuses is refused the same way")
  func refused() {
    var gen = SeededGenerator(seed: 15)
    let model = Sequential([Flatten(), Linear(16, 8, initializer: .dlgUniform, generator: &gen), Activation.relu, Linear(8, 4, initializer: .dlgUniform, generator: &gen)])
    let images = Tensor.uniform([1, 1, 4, 4], using: &gen)
    let shared = sharedGradient(model: AnyModel(model), input: images, targets: oneHot([2], classes: 4))
    let inversion = GradientInversion(model: model, sharedGradient: shared, inputShape: images.shape, classes: 4)
    #expect(throws: RGAPError.self) { try inversion.attack(AttackConfiguration(method: .dlg, iterations: 5, initialization: .rgap)) }
  }
}
