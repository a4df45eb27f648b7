import Adversary
import Tensors
import Testing

/// Whole attacks on small problems: each method must actually reconstruct, report every
/// iteration, keep its best start and survive an optimiser that blows up.
@Suite("Gradient-inversion attacks")
struct AttackTests {
  let model: LeNet
  let truth: Tensor
  let labels = [3]
  let shared: [Tensor]

  init() {
    var gen = SeededGenerator(seed: 31)
    model = LeNet(channels: 1, classes: 10, imageSize: 12, generator: &gen)
    truth = Tensor.uniform([1, 1, 12, 12], using: &gen)
    shared = sharedGradient(model: model, input: truth, targets: oneHot(labels, classes: 10))
  }

  var inversion: GradientInversion<LeNet> {
    GradientInversion(model: model, sharedGradient: shared, inputShape: truth.shape, classes: 10)
  }

  func score(_ r: AttackResult) -> LeakageScore {
    Leakage.score(reconstruction: r.reconstruction, truth: truth, labels: r.labels, trueLabels: labels)
  }

  @Test("each method recovers the image and the label", arguments: [
    (AttackMethod.dlg, 100, 30.0), (.idlg, 100, 30.0), (.wdlg, 100, 30.0), (.ig, 1200, 30.0),
  ])
  func recovers(method: AttackMethod, iterations: Int, minimumPSNR: Double) {
    let r = inversion.run(
      AttackConfiguration(method: method, iterations: iterations, seed: 1, totalVariation: 1e-4))
    let s = score(r)
    #expect(s.psnr >= minimumPSNR, "\(method): PSNR \(s.psnr)")
    #expect(s.labelAccuracy == 1, "\(method): labels \(r.labels)")
    #expect(r.history.count == iterations + 1 && r.distance <= r.history[0])
  }

  @Test("progress arrives once per iteration of every start, and the kept start is the nearest")
  func progressAndRestarts() {
    var seen: [[AttackProgress]] = [[], [], []]
    let config = AttackConfiguration(method: .idlg, iterations: 8, restarts: 3, seed: 5, convergedFraction: 0)
    let r = inversion.run(config) {
      seen[$0.trial].append($0)
    }
    for trial in seen {
      #expect(trial.map(\.iteration) == Array(0...8))
      #expect(zip(trial, trial.dropFirst()).allSatisfy { $0.evaluations < $1.evaluations })
    }
    let bests = seen.map { $0.map(\.distance).min()! }
    #expect(r.distance == bests.min()!)
    #expect(r.history == seen[r.keptTrial].map(\.distance))
    #expect(r.evaluations == seen[2].last!.evaluations)
  }

  @Test("no further start is drawn once one has converged")
  func stopsAtAConvergedStart() {
    var trials = Set<Int>()
    let r = inversion.run(AttackConfiguration(method: .idlg, iterations: 100, restarts: 3, seed: 1)) {
      trials.insert($0.trial)
    }
    #expect(trials == [0] && r.distance <= 1e-6 * r.history[0])
  }

  @Test("an optimiser that diverges restarts from its best point instead of ending in NaN")
  func recoversFromDivergence() {
    // ReLU features grow with the image, so an absurd learning rate sends the distance off.
    var gen = SeededGenerator(seed: 32)
    let relu = LeNet(channels: 1, classes: 10, imageSize: 12, activation: .relu, generator: &gen)
    let g = sharedGradient(model: relu, input: truth, targets: oneHot(labels, classes: 10))
    let inversion = GradientInversion(model: relu, sharedGradient: g, inputShape: truth.shape, classes: 10)
    let r = inversion.run(AttackConfiguration(method: .idlg, iterations: 30, seed: 2, learningRate: 1e6))
    #expect(r.recoveries > 0)
    #expect(r.history.contains { !$0.isFinite || $0 > 1000 * r.history[0] })
    #expect(r.distance.isFinite && r.distance <= r.history[0])
    #expect(r.reconstruction.scalars.allSatisfy { $0.isFinite })
  }

  @Test("Inverting Gradients keeps its pixels in the valid range")
  func igIsBoxed() {
    var lowest = Float.infinity, highest = -Float.infinity
    _ = inversion.run(AttackConfiguration(method: .ig, iterations: 20, seed: 3)) { p in
      if p.iteration > 0 {
        lowest = min(lowest, p.reconstruction.scalars.min()!)
        highest = max(highest, p.reconstruction.scalars.max()!)
      }
    }
    #expect(lowest >= 0 && highest <= 1)
  }
}
