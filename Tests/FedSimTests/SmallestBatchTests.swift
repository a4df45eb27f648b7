@testable import FedClient
import FedData
import FedSimCore
import FedSimKit
import Foundation
import Tensors
import TestSupport
import Testing

/// Training batches a batch norm can normalise: where a model's last batch norm ends 1×1, one
/// image a batch would give it one value a channel (`ModelZoo.smallestBatch`). A FedAvg
/// epoch's last batch of one joins the batch before; a client holding one image, and DP-SGD
/// (an image at a time), are refused, naming why.
@Suite("Batches a batch norm can normalise")
struct SmallestBatchTests {
  @Test("an epoch's batches: a last batch smaller than the smallest joins the one before")
  func batches() {
    let cases: [(count: Int, size: Int, smallest: Int, expected: [Range<Int>])] = [
      (5, 2, 2, [0..<2, 2..<5]), (5, 2, 1, [0..<2, 2..<4, 4..<5]), (4, 2, 2, [0..<2, 2..<4]),
      (7, 3, 2, [0..<3, 3..<7]), (8, 3, 3, [0..<3, 3..<8]), (3, 4, 2, [0..<3]), (1, 2, 2, [0..<1]), (0, 2, 2, []),
    ]
    for c in cases {
      let batches = LocalTraining(batchSize: c.size, smallestBatch: c.smallest).batches(c.count)
      #expect(batches == c.expected, "\(c.count) images in batches of \(c.size), at least \(c.smallest)")
    }
  }

  @Test("which models need two images a batch, and from what size one serves")
  func smallest() {
    func spec(_ name: String, _ size: Int) -> ModelSpec { ModelSpec(name: name, channels: 3, imageSize: size, classes: 10) }
    #expect(ModelZoo.smallestBatch(spec("densenet121", 32)) == 2)
    #expect(ModelZoo.smallestBatch(spec("densenet121", 61)) == 1)
    #expect(ModelZoo.smallestSideForOneImage(spec("densenet121", 32)) == 61)
    #expect(ModelZoo.smallestBatch(spec("inception_v3", 106)) == 2)
    #expect(ModelZoo.smallestSideForOneImage(spec("inception_v3", 80)) == 107)
    #expect(ModelZoo.smallestBatch(spec("resnet18", 8)) == 2)  // the CIFAR stem: 8 → 4 → 2 → 1
    #expect(ModelZoo.smallestBatch(spec("resnet18", 16)) == 1)
    #expect(ModelZoo.smallestBatch(spec("lenet", 32)) == 1)
  }

  @Test("a FedAvg client's three images in batches of 2, with a model that needs two: one step of 3")
  func fedAvgMergesTheLastBatch() throws {
    let scenario = try TestScenario.resolve(
      """
      name: t
      model: {name: resnet18, size: 8}
      dataset: {path: shapes, count: 3, test_fraction: 0}
      federation: {clients: 1, local_batch: 2, algorithm: fedavg}
      """)
    let setup = try FederationSetup(scenario)
    #expect(setup.clientIndices[0].count == 3 && ModelZoo.smallestBatch(scenario.model) == 2)
    let result = LocalUpdate(setup: setup, client: 0).compute(try setup.initialModel(), round: 1)
    #expect(result.steps == 1 && result.examples == 3, "steps \(result.steps), examples \(result.examples)")
    #expect(result.update.allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
  }

  @Test("a client holding one image, with a model that needs two a batch, is refused, naming both")
  func oneImageClient() throws {
    let folder = RunFolder(TemporaryPath.make("fedsim-smallest"))
    try folder.create()
    defer { try? FileManager.default.removeItem(atPath: folder.path) }
    let scenario = try TestScenario.resolve(
      """
      name: t
      model: {name: densenet121, size: 32}
      dataset: {path: shapes, count: 5, test_fraction: 0}
      federation: {clients: 3, local_batch: 2, algorithm: fedavg}
      """)
    try folder.writeJSON(scenario, to: folder.scenario)
    let setup = try FederationSetup(scenario)
    let held = setup.clientIndices.map(\.count)
    #expect(held.contains(1) && held.contains(2), "the split gives some client one image: \(held)")
    for (id, count) in held.enumerated() {
      do {
        _ = try FederatedClient(folder: folder, id: id)
        #expect(count >= 2, "client \(id) holds \(count) and was let through")
      } catch {
        #expect(count == 1, "client \(id) holds \(count): \(error)")
        #expect("\(error)".contains("client \(id) holds 1 image") && "\(error)".contains("needs 2"), "\(error)")
      }
    }
  }
}
