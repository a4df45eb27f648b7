import Foundation
import Tensors
import TestSupport
import Testing

struct TorchvisionStateDict: Sendable {
  var parameters: Int
  var entries: [(name: String, shape: [Int])]

  static func load(_ model: String) throws -> TorchvisionStateDict? {
    let path = SharedData.referenceDirectory + "/torchvision-state-dicts.json"
    guard let data = FileManager.default.contents(atPath: path),
      let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
      let entry = json[model] as? [String: Any]
    else { return nil }
    let list = entry["state_dict"] as! [[Any]]
    return TorchvisionStateDict(
      parameters: entry["parameters"] as! Int,
      entries: list.map { ($0[0] as! String, ($0[1] as! [Any]).map { ($0 as! NSNumber).intValue }) })
  }
}

@Suite("Model zoo")
struct ModelZooTests {
  @Test(
    "torchvision models have torchvision's state-dict names, shapes, order and parameter counts",
    .enabled(if: SharedData.referenceTestsEnabled, "../shared/reference not found"),
    arguments: [
      ("resnet18", ModelSpec(name: "resnet18", imageSize: 224, classes: 1000)),
      ("densenet121", ModelSpec(name: "densenet121", imageSize: 224, classes: 1000)),
      ("inception_v3", ModelSpec(name: "inception_v3", imageSize: 299, classes: 1000)),
    ])
  func torchvisionNames(_ c: (String, ModelSpec)) throws {
    let expected = try #require(try TorchvisionStateDict.load(c.0), "\(c.0) missing from torchvision-state-dicts.json")
    var gen = SeededGenerator(seed: 0)
    let model = try ModelZoo.make(c.1, generator: &gen)
    let ours = model.stateDict
    #expect(model.parameterCount == expected.parameters)
    #expect(ours.count == expected.entries.count)
    for (o, e) in zip(ours, expected.entries) where o.name != e.name || o.tensor.shape != e.shape {
      Issue.record("\(c.0): \(o.name) \(o.tensor.shape) where torchvision has \(e.name) \(e.shape)")
      break
    }
  }

  @Test("every model runs forward and backward at a small size", arguments: [
    ModelSpec(name: "lenet"), ModelSpec(name: "cnn6"), ModelSpec(name: "mlp", channels: 1, imageSize: 28, hidden: [32, 16]),
    ModelSpec(name: "resnet18", imageSize: 32, classes: 10, activation: .sigmoid),
    ModelSpec(name: "densenet121", imageSize: 32, classes: 10), ModelSpec(name: "inception_v3", imageSize: 75, classes: 10),
    ModelSpec(name: "fedavg_cnn", channels: 1, imageSize: 28, classes: 10),
  ])
  func forwardAndBackward(_ spec: ModelSpec) throws {
    var gen = SeededGenerator(seed: 1)
    let model = try ModelZoo.make(spec, generator: &gen).requiringGradients()
    let x = Tensor.uniform([2, spec.channels, spec.imageSize, spec.imageSize], using: &gen)
    let logits = model(x)
    #expect(logits.shape == [2, spec.classes])
    let grads = gradients(of: crossEntropy(logits: logits, labels: [0, 1]), wrt: model.parameters)
    #expect(grads.allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
    #expect(grads.contains { $0.abs().sum().scalar > 0 })
  }

  @Test func cnn6MatchesRGAP() throws {
    var gen = SeededGenerator(seed: 0)
    let model = try ModelZoo.make(ModelSpec(name: "cnn6"), generator: &gen)
    #expect(model.stateDict.map(\.name) == (0..<7).map { "body.\($0).layer.weight" })
    #expect(model.stateDict.last!.tensor.shape == [10, 3200])
  }

  @Test("FedAvg's CNN has McMahan et al.'s 1,663,370 parameters on MNIST, named as nn.Sequential names them")
  func fedAvgCNN() throws {
    var gen = SeededGenerator(seed: 0)
    let model = try ModelZoo.make(ModelSpec(name: "fedavg_cnn", channels: 1, imageSize: 28, classes: 10), generator: &gen)
    #expect(model.parameters.map(\.scalarCount).reduce(0, +) == 1_663_370)
    #expect(model.stateDict.map(\.name) == ["body.0.weight", "body.0.bias", "body.3.weight", "body.3.bias", "body.7.weight", "body.7.bias", "body.9.weight", "body.9.bias"])
  }

  @Test func unknownModelsAndBadSizesAreErrors() {
    var gen = SeededGenerator(seed: 0)
    #expect(throws: ModelError.unknownModel("vgg")) { try ModelZoo.make(ModelSpec(name: "vgg"), generator: &gen) }
    #expect(throws: ModelError.self) { try ModelZoo.make(ModelSpec(name: "inception_v3", imageSize: 32), generator: &gen) }
  }

  @Test("options a model does not have are errors, not ignored: another model's auxiliary head, a normalisation for other channels")
  func optionsForOtherModels() throws {
    #expect(throws: ModelError.unsupported("resnet18", reason: "has no auxiliary head (auxiliary_head is Inception-v3's)")) {
      try ModelZoo.check(ModelSpec(name: "resnet18", auxiliaryHead: false))
    }
    #expect(throws: ModelError.self) { try ModelZoo.check(ModelSpec(name: "lenet", channels: 1, normalization: .imageNet)) }
    try ModelZoo.check(ModelSpec(name: "inception_v3", imageSize: 75, auxiliaryHead: false, normalization: .imageNet))
    try ModelZoo.check(ModelSpec(name: "lenet", channels: 3, normalization: .imageNet))
  }

  @Test("batch norm normalises by batch statistics and tracks running ones in training mode")
  func batchNorm() {
    var gen = SeededGenerator(seed: 2)
    let bn = BatchNorm2d(3, generator: &gen)
    let x = Tensor.normal([4, 3, 5, 5], mean: 2, std: 3, using: &gen)
    let y = withForwardMode(.training) { bn(x) }
    #expect(abs(y.mean().scalar) < 1e-4)
    #expect(abs((y * y).mean().scalar - 1) < 1e-3)
    #expect(bn.runningMean.scalars.allSatisfy { abs($0 - 0.2) < 0.1 })  // 0.1 · batch mean ≈ 2
    let frozen = withForwardMode(.attack) { bn(x) }
    #expect(bn.stateDict.first { $0.name == "num_batches_tracked" }!.tensor.scalar == 1, "attack mode leaves it")
    #expect(relativeError(frozen, y) < 1e-5)
    let inference = withForwardMode(.inference) { bn(x) }
    #expect(relativeError(inference, y) > 0.1, "inference uses the running statistics")
  }
}

@Suite("Batch statistics that see one value a channel")
struct OneValueBatchNormTests {
  /// The side of the smallest map a batch norm of torchvision's model normalises, read with
  /// forward hooks on every BatchNorm2d (torchvision 0.29.2, PyTorch 2.15, 2026-12-06).
  static let torchvision: [(name: String, size: Int, stem: ResNet18.Stem?, side: Int)] = [
    ("resnet18", 32, .imagenet, 1), ("resnet18", 63, .imagenet, 2), ("resnet18", 65, .imagenet, 3),
    ("resnet18", 224, nil, 7), ("densenet121", 32, nil, 1), ("densenet121", 60, nil, 1), ("densenet121", 61, nil, 2),
    ("densenet121", 224, nil, 7), ("inception_v3", 75, nil, 1), ("inception_v3", 106, nil, 1),
    ("inception_v3", 107, nil, 2), ("inception_v3", 299, nil, 8),
  ]

  @Test("the smallest map a batch norm normalises is torchvision's; models without batch norm have none")
  func smallestMaps() {
    for c in Self.torchvision {
      let spec = ModelSpec(name: c.name, imageSize: c.size, stem: c.stem)
      #expect(ModelZoo.smallestNormalisedSide(spec) == c.side, "\(c)")
    }
    #expect(ModelZoo.smallestNormalisedSide(ModelSpec(name: "resnet18", imageSize: 32)) == 4, "the CIFAR stem")
    #expect(ModelZoo.smallestNormalisedSide(ModelSpec(name: "lenet", imageSize: 32)) == nil)
  }

  @Test("one value a channel is refused at a batch of 1, naming the size that serves; two images serve")
  func refused() throws {
    let spec = ModelSpec(name: "densenet121", imageSize: 60)
    #expect { try ModelZoo.check(spec, batch: 1) } throws: { "\($0)".contains("images of at least 61×61") }
    try ModelZoo.check(spec, batch: 2)
    try ModelZoo.check(ModelSpec(name: "densenet121", imageSize: 61), batch: 1)
    try ModelZoo.check(ModelSpec(name: "lenet", imageSize: 4), batch: 1)
  }
}

@Suite("Checkpoints")
struct CheckpointTests {
  @Test("a model's state dict round-trips through safetensors; a mis-shaped tensor is named")
  func roundTrip() throws {
    var gen = SeededGenerator(seed: 9)
    let model = try ModelZoo.make(ModelSpec(name: "resnet18", imageSize: 32, classes: 10), generator: &gen)
    let path = TemporaryPath.make("ckpt", suffix: ".safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }  // 44 MB, else left in /tmp by every run
    try model.save(safetensors: path, metadata: ["model": "resnet18"])
    var other = try ModelZoo.make(ModelSpec(name: "resnet18", imageSize: 32, classes: 10), generator: &gen)
    #expect(other.parameters[0].scalars != model.parameters[0].scalars)
    #expect(try other.load(safetensors: path)["model"] == "resnet18")
    for (a, b) in zip(other.stateDict, model.stateDict) { #expect(a.name == b.name && a.tensor.scalars == b.tensor.scalars) }
    var wrong = try ModelZoo.make(ModelSpec(name: "resnet18", imageSize: 32, classes: 7), generator: &gen)
    #expect { _ = try wrong.load(safetensors: path) } throws: { "\($0)".contains(path) && "\($0)".contains("fc.weight") }
  }
}
