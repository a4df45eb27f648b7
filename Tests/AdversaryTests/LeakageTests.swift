import Adversary
import Foundation
import Tensors
import TestSupport
import Testing

@Suite("Leakage metrics")
struct LeakageTests {
  static let fixture = SharedData.repositoryRoot + "/Tests/Fixtures/metrics.safetensors"

  @Test("SSIM and PSNR match scikit-image on five image pairs")
  func matchesScikitImage() throws {
    let file = try SafetensorsFile(contentsOf: Self.fixture)
    #expect(file.metadata.count == 5)
    for (name, json) in file.metadata {
      let expected = try JSONDecoder().decode([String: Double].self, from: Data(json.utf8))
      let a = try file.tensor(name + ".a"), b = try file.tensor(name + ".b")
      let (c, h, w) = (a.shape[0], a.shape[1], a.shape[2])
      let ssim = Leakage.ssim(a.scalars[...], b.scalars[...], channels: c, height: h, width: w)
      #expect(abs(ssim - expected["ssim"]!) < 1e-5, "\(name): SSIM \(ssim) vs \(expected["ssim"]!)")
      let psnr = Leakage.psnr(mse: Leakage.mse(a.scalars[...], b.scalars[...]))
      #expect(abs(psnr - expected["psnr"]!) < 1e-4, "\(name): PSNR \(psnr) vs \(expected["psnr"]!)")
      let same = Leakage.ssim(a.scalars[...], a.scalars[...], channels: c, height: h, width: w)
      #expect(abs(same - 1) < 1e-9)
    }
  }

  @Test("the assignment is optimal: it equals brute force over every permutation")
  func assignmentIsOptimal() {
    var gen = SeededGenerator(seed: 11)
    for n in 1...6 {
      for _ in 0..<5 {
        let cost = (0..<n).map { _ in (0..<n).map { _ in Double(gen.nextUnitDouble()) } }
        let found = Leakage.assignment(cost: cost)
        #expect(Set(found) == Set(0..<n), "not a permutation: \(found)")
        let total = { (p: [Int]) in p.enumerated().map { cost[$0.offset][$0.element] }.reduce(0, +) }
        #expect(abs(total(found) - permutations(n).map(total).min()!) < 1e-12)
      }
    }
  }

  @Test("a shuffled batch is scored against the right images")
  func scoresAShuffledBatch() {
    var gen = SeededGenerator(seed: 12)
    let truth = Tensor.uniform([3, 1, 12, 12], using: &gen)
    let parts = (0..<3).map { truth.sliced(alongAxis: 0, $0..<($0 + 1)) }
    let shuffled = concat([parts[2], parts[0], parts[1] + 0.01], alongAxis: 0)
    let s = Leakage.score(reconstruction: shuffled, truth: truth, labels: [4, 1, 1], trueLabels: [1, 4, 7])
    #expect(s.assignment == [1, 2, 0])
    #expect(s.images[0].psnr == Leakage.maximumPSNR && s.images[1].mse > 0)
    #expect(s.recovered == 3 && s.success)
    #expect(abs(s.labelAccuracy - 2.0 / 3) < 1e-12)
    let noisy = Leakage.score(reconstruction: truth * 0.5, truth: truth, labels: [], trueLabels: [1, 4, 7])
    #expect(!noisy.success && noisy.recovered == 0 && noisy.labelAccuracy == 0)
  }

  @Test("reconstructions are clamped to [0, 1] before scoring")
  func clampsReconstructions() {
    let truth = Tensor(shape: [1, 1, 2, 2], scalars: [0, 1, 0.5, 0.5])
    let wild = Tensor(shape: [1, 1, 2, 2], scalars: [-3, 4, 0.5, 0.5])
    #expect(Leakage.score(reconstruction: wild, truth: truth, labels: [0], trueLabels: [0]).mse == 0)
  }

  @Test("label accuracy counts repeated labels as a multiset")
  func labelMultiset() {
    #expect(Leakage.labelAccuracy([3, 3, 5], [3, 5, 5]) == 2.0 / 3)
    #expect(Leakage.labelAccuracy([5, 3, 3], [3, 3, 5]) == 1)
    #expect(Leakage.labelAccuracy([], [1]) == 0)
  }

  private func permutations(_ n: Int) -> [[Int]] {
    guard n > 0 else { return [[]] }
    return permutations(n - 1).flatMap { p in (0...p.count).map { i in var q = p; q.insert(n - 1, at: i); return q } }
  }
}
