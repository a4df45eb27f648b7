import FedData
import FedSimCore
import FedSimKit
import FedServer
import FedClient
import AdversaryRole
import Foundation
import Tensors
import Testing

@Suite("Client-side defenses")
struct DefenseTests {
  let update: [Tensor] = {
    var g = SeededGenerator(seed: 61)
    return [Tensor.normal([40, 50], using: &g), Tensor.normal([300], using: &g)]
  }()

  func flat(_ u: [Tensor]) -> [Float] { u.flatMap(\.scalars) }

  @Test("Gaussian and Laplacian noise have the asked-for spread", arguments: [false, true])
  func noise(laplace: Bool) {
    var g = SeededGenerator(seed: 62)
    let d = laplace ? Defense.laplaceNoise(0.5) : Defense.gaussianNoise(0.5)
    let noise = zip(flat(d.apply(update, generator: &g)), flat(update)).map { Double($0 - $1) }
    let mean = noise.reduce(0, +) / Double(noise.count)
    let variance = noise.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(noise.count)
    // Var = σ² = 0.25 for Gaussian, 2b² = 0.5 for Laplace(b = 0.5).
    #expect(abs(mean) < 0.06)  // four standard errors of the mean of 2,300 draws
    #expect(abs(variance - (laplace ? 0.5 : 0.25)) < (laplace ? 0.04 : 0.02), "variance \(variance)")
  }

  @Test("clipping scales a long update to the bound and leaves a short one alone")
  func clip() {
    var g = SeededGenerator(seed: 63)
    let norm = { (u: [Tensor]) in self.flat(u).map { Double($0 * $0) }.reduce(0, +).squareRoot() }
    let clipped = Defense.clip(3).apply(update, generator: &g)
    #expect(abs(norm(clipped) - 3) < 1e-3)
    let untouched = Defense.clip(1e6).apply(update, generator: &g)
    #expect(flat(untouched) == flat(update))
  }

  @Test("pruning zeroes exactly the smallest fraction, across layers")
  func prune() {
    var g = SeededGenerator(seed: 64)
    let pruned = flat(Defense.prune(0.9).apply(update, generator: &g))
    let original = flat(update)
    #expect(pruned.filter { $0 == 0 }.count == 2070)
    let smallestKept = zip(pruned, original).filter { $0.0 != 0 }.map { abs($0.1) }.min()!
    let largestDropped = zip(pruned, original).filter { $0.0 == 0 }.map { abs($0.1) }.max()!
    #expect(largestDropped <= smallestKept)
    #expect(zip(pruned, original).allSatisfy { $0.0 == 0 || $0.0 == $0.1 })
  }

  @Test("per-layer pruning takes the fraction from each layer")
  func pruneLayer() {
    var g = SeededGenerator(seed: 65)
    // Layer 2 ten times larger: global pruning would empty layer 1 first, per-layer does not.
    let skewed = [update[0], update[1] * 10]
    let perLayer = Defense.pruneLayer(0.5).apply(skewed, generator: &g)
    #expect(perLayer[0].scalars.filter { $0 == 0 }.count == 1000 && perLayer[1].scalars.filter { $0 == 0 }.count == 150)
    let global = Defense.prune(0.5).apply(skewed, generator: &g)
    #expect(global[0].scalars.filter { $0 == 0 }.count > 1000)
  }
}
