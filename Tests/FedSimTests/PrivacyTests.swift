import Adversary
import FedData
import FedSimCore
import FedSimKit
import FedServer
import FedClient
import AdversaryRole
import Foundation
import Tensors
import TestSupport
import Testing

@Suite("DP-SGD, its accountant, quantisation and secure aggregation")
struct PrivacyTests {
  struct Case: Decodable { var q: Double, sigma: Double, steps: Int, delta: Double, epsilon: Double, order: Int }

  @Test("the RDP accountant gives Opacus's ε and order on five settings")
  func accountantMatchesOpacus() throws {
    let url = URL(fileURLWithPath: SharedData.repositoryRoot + "/Tests/Fixtures/rdp-opacus.json")
    let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: url))
    #expect(cases.count == 5)
    for c in cases {
      let (eps, order) = RDPAccountant.epsilon(q: c.q, sigma: c.sigma, steps: c.steps, delta: c.delta)
      #expect(abs(eps - c.epsilon) < 1e-6 * max(1, c.epsilon), "q \(c.q) σ \(c.sigma): \(eps) vs \(c.epsilon)")
      #expect(order == c.order)
    }
  }

  @Test("DP-SGD clips each example and, without noise, averages the clipped gradients")
  func dpsgd() {
    var g = SeededGenerator(seed: 71)
    let model = LeNet(channels: 1, classes: 5, imageSize: 12, generator: &g)
    let x = Tensor.uniform([3, 1, 12, 12], using: &g)
    let labels = [0, 3, 4]
    let norm = { (u: [Tensor]) in u.map { Double(($0 * $0).sum().scalar) }.reduce(0, +).squareRoot() }
    // A clip far above every example's norm and vanishing noise: the plain batch gradient.
    let loose = DPSGDSettings(clip: 1e6, noiseMultiplier: 1e-12, delta: 1e-5).gradient(model, images: x, labels: labels, classes: 5, generator: &g)
    let plain = sharedGradient(model: model, input: x, targets: oneHot(labels, classes: 5))
    for (a, b) in zip(loose, plain) { #expect(relativeError(a, b) < 1e-4) }
    // A tight clip: the mean of three vectors of norm ≤ 0.01 has norm ≤ 0.01.
    let tight = DPSGDSettings(clip: 0.01, noiseMultiplier: 1e-12, delta: 1e-5).gradient(model, images: x, labels: labels, classes: 5, generator: &g)
    #expect(norm(tight) <= 0.01 + 1e-6 && norm(tight) > 0.001)
    // Noise: σ·C/B per value.
    let noisy = DPSGDSettings(clip: 0.01, noiseMultiplier: 30, delta: 1e-5).gradient(model, images: x, labels: labels, classes: 5, generator: &g)
    let diffs = zip(noisy.flatMap(\.scalars), tight.flatMap(\.scalars)).map { Double($0 - $1) }
    let std = (diffs.map { $0 * $0 }.reduce(0, +) / Double(diffs.count)).squareRoot()
    #expect(abs(std - 0.1) < 0.005, "noise std \(std)")
  }

  @Test("quantisation: fp16 keeps 11 bits, int8 at most 255 levels within half a step")
  func quantise() {
    var g = SeededGenerator(seed: 72)
    let update = [Tensor.normal([500], using: &g)]
    let half = Defense.quantize(.fp16).apply(update, generator: &g)[0].scalars
    #expect(zip(half, update[0].scalars).allSatisfy { abs($0 - $1) <= abs($1) * 0.0005 + 1e-7 })
    let q = Defense.quantize(.int8).apply(update, generator: &g)[0].scalars
    let step = update[0].scalars.map(abs).max()! / 127
    #expect(Set(q).count <= 255 && Set(q).count > 50)
    #expect(zip(q, update[0].scalars).allSatisfy { abs($0 - $1) <= step / 2 + 1e-6 })
  }

  @Test("secure aggregation's masks hide each update and cancel in the weighted sum")
  func masksCancel() {
    var g = SeededGenerator(seed: 73)
    let updates = (0..<3).map { _ in [Tensor.normal([4, 5], std: 0.01, using: &g), Tensor.normal([7], std: 0.01, using: &g)] }
    let examples = [1, 2, 5]
    let masked = (0..<3).map {
      SecureAggregation.mask(updates[$0], client: $0, round: 2, selected: [0, 1, 2], examples: examples[$0], seed: 9)
    }
    func weighted(_ us: [[Tensor]]) -> [Float] {
      let total = Float(examples.reduce(0, +))
      return (0..<us[0].count).flatMap { l in
        us.indices.map { us[$0][l] * (Float(examples[$0]) / total) }.reduce(Tensor.zeros(us[0][l].shape), +).scalars
      }
    }
    #expect(zip(weighted(masked), weighted(updates)).allSatisfy { abs($0 - $1) < 1e-5 })
    for i in 0..<3 {
      #expect(relativeError(masked[i][0], updates[i][0]) > 10, "client \(i)'s masked update is close to its own")
    }
  }
}
