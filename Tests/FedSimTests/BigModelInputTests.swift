import FedData
import FedSimCore
import Foundation
import Tensors
import TestSupport
import Testing

/// The big-model study's inputs: normalisation, update files as the PyTorch anchor writes them
/// (parameters only, no auxiliary head, ImageNet-normalised input without a `normalize` key).
@Suite("Big-model inputs: normalisation and anchor update files")
struct BigModelInputTests {
  @Test("normalisation: apply then undo is the identity; text round-trips; bad text is an error")
  func roundTrip() throws {
    var generator = SeededGenerator(seed: 4)
    let x = Tensor.uniform([2, 3, 5, 5], using: &generator)
    let n = try #require(try Normalization.parse("imagenet", channels: 3))
    #expect(relativeError(n.undo(n.apply(x)), x) < 1e-6)
    // The red channel of pixel 0: (x − 0.485) / 0.229.
    #expect(abs(n.apply(x).scalars[0] - (x.scalars[0] - 0.485) / 0.229) < 1e-6)
    let custom = try #require(try Normalization.parse("0.5,0.25,0.1/0.2,0.3,0.4", channels: 3))
    #expect(try Normalization.parse(custom.text, channels: 3) == custom && custom.std == [0.2, 0.3, 0.4])
    #expect(try Normalization.parse("none", channels: 3) == nil)
    #expect(try Normalization.parse("imagenet", channels: 1)?.mean.count == 1)
    #expect(abs(n.inputRange.lowerBound - (-0.485 / 0.229)) < 1e-5 && abs(n.inputRange.upperBound - (1 - 0.406) / 0.225) < 1e-5)
    for bad in ["imagenette", "0.5/0.5", "0.5,0.5,0.5/0,1,1", "a,b,c/1,1,1", "1,2,3/4,5,6/7", "imagenet"] {
      let channels = bad == "imagenet" ? 4 : 3
      #expect(throws: NormalizationError.self, "\(bad)") { try Normalization.parse(bad, channels: channels) }
    }
  }

  @Test("an update's normalisation is kept in its metadata and undone for pixels")
  func metadata() throws {
    let spec = ModelSpec(name: "lenet", channels: 3, imageSize: 16, classes: 4, normalization: .imageNet)
    var generator = SeededGenerator(seed: 1)
    let model = try ModelZoo.make(spec, generator: &generator)
    let pixels = Tensor.uniform([1, 3, 16, 16], using: &generator)
    let update = RecordedUpdate(spec: spec, model: model, input: Normalization.imageNet.apply(pixels), labels: [2])
    let path = TemporaryPath.make("fedsim-norm", suffix: ".safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try update.write(to: path)
    let back = try RecordedUpdate(contentsOf: path)
    #expect(back.normalization == .imageNet)
    let restored = try #require(back.input.map(back.pixels))
    #expect(relativeError(restored, pixels) < 1e-6)
    #expect(try SafetensorsFile(contentsOf: path).metadata["normalize"] == "imagenet")
  }

  /// An update file laid out as `make_bigmodel_update.py` writes one: `param.*` for parameters
  /// only (no batch-norm buffers), `grad.*`, `input`, `label_onehot`, and its six metadata keys.
  static func anchorLayout(_ model: AnyModel, spec: ModelSpec, input: Tensor, labels: [Int], to path: String) throws {
    let gradient = sharedGradient(model: model, input: input, targets: oneHot(labels, classes: spec.classes))
    var tensors: [String: Tensor] = ["input": input, "label_onehot": oneHot(labels, classes: spec.classes)]
    for ((name, p), g) in zip(model.namedParameters, gradient) {
      tensors["param." + name] = p
      tensors["grad." + name] = g
    }
    let metadata = [
      "model": spec.name, "classes": "\(spec.classes)", "channels": "3", "size": "\(spec.imageSize)",
      "batch": "\(input.shape[0])", "activation": "sigmoid",
    ]
    try SafetensorsFile(tensors: tensors, metadata: metadata).write(to: path)
  }

  @Test("Inception-v3 without its auxiliary head, parameters only, loads: the head is inferred from the weights")
  func inceptionWithoutAuxiliaryHead() throws {
    let spec = ModelSpec(name: "inception_v3", channels: 3, imageSize: 75, classes: 3, activation: .sigmoid, auxiliaryHead: false)
    var generator = SeededGenerator(seed: 2)
    let model = try ModelZoo.make(spec, generator: &generator)
    let input = Normalization.imageNet.apply(Tensor.uniform([2, 3, 75, 75], using: &generator))
    let path = TemporaryPath.make("fedsim-inception", suffix: ".safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Self.anchorLayout(model, spec: spec, input: input, labels: [0, 2], to: path)
    let file = try SafetensorsFile(contentsOf: path)
    #expect(!file.tensors.keys.contains { $0.hasPrefix("param.AuxLogits") || $0.hasSuffix("running_mean") })
    let loaded = try RecordedUpdate(contentsOf: path)
    #expect(loaded.spec.auxiliaryHead == false && loaded.batch == 2 && loaded.labels == [0, 2])
    #expect(loaded.model.parameters.count == model.parameters.count)
    // The head's gradient without its weights: the head cannot be inferred, and is not ignored.
    var stray = file
    stray.tensors["grad.AuxLogits.fc.bias"] = .zeros([3])
    try stray.write(to: path)
    #expect {
      try RecordedUpdate(contentsOf: path)
    } throws: { "\($0)".contains("'grad.AuxLogits.fc.bias' does not belong: it is a gradient of Inception-v3's auxiliary head") }
    // With the head's weights it loads with the head, while the head's gradient is zero: FedSim's
    // loss is the main head's alone. A gradient of the head means another loss, refused.
    var headed = file
    var headGenerator = SeededGenerator(seed: 3)
    var headSpec = spec
    headSpec.auxiliaryHead = true
    for (name, p) in try ModelZoo.make(headSpec, generator: &headGenerator).namedParameters where name.hasPrefix("AuxLogits.") {
      headed.tensors["param." + name] = p
      headed.tensors["grad." + name] = .zeros(p.shape)
    }
    try headed.write(to: path)
    let withHead = try RecordedUpdate(contentsOf: path)
    #expect(withHead.spec.auxiliaryHead == true && withHead.model.parameters.count == model.parameters.count + 8)
    headed.tensors["grad.AuxLogits.fc.bias"] = Tensor(shape: [3], scalars: [0, 1e-3, 0])
    try headed.write(to: path)
    #expect {
      try RecordedUpdate(contentsOf: path)
    } throws: { "\($0)".contains("'grad.AuxLogits.fc.bias' is not zero: the loss behind this update included Inception-v3's auxiliary head") }
  }

  /// Update files written by the PyTorch anchor itself (`../shared/anchors/make_bigmodel_update.py`)
  /// are 57–178 MB, too large to keep: set FEDSIM_BIGMODEL_UPDATES to a folder of them
  /// (resnet18, densenet121, inception_v3 .safetensors) to check they load and that FedSim's
  /// gradient of their weights and input equals PyTorch's. The script swaps torchvision's
  /// `nn.ReLU` modules only (`activation_scope: modules`). Its Inception-v3 also runs dropout
  /// (p = 0.5, training mode) before the last layer, with a mask no one else can know: that file
  /// is checked to load and to match in shape, not in value; `inception_v3-nodropout.safetensors`,
  /// when there, is the same script's file with the dropout's p set to 0, checked in value.
  @Test("the PyTorch anchor's update files load, and FedSim's gradient equals theirs",
    .enabled(if: ProcessInfo.processInfo.environment["FEDSIM_BIGMODEL_UPDATES"] != nil, "FEDSIM_BIGMODEL_UPDATES is not set"))
  func anchorFiles() throws {
    let dir = ProcessInfo.processInfo.environment["FEDSIM_BIGMODEL_UPDATES"] ?? ""
    for name in ["resnet18", "densenet121", "inception_v3", "inception_v3-nodropout"] {
      let path = dir + "/\(name).safetensors"
      guard FileManager.default.fileExists(atPath: path) else { continue }
      let update = try RecordedUpdate(contentsOf: path, activationScope: .modules)
      guard name != "inception_v3" else {
        #expect(update.spec.auxiliaryHead == false && update.batch == 2 && update.gradient.count == 284)
        continue
      }
      let input = try #require(update.input), labels = try #require(update.labels)
      let ours = sharedGradient(model: update.model, input: input, targets: oneHot(labels, classes: update.spec.classes))
      let errors = zip(ours, update.gradient).map { relativeError($0, $1) }
      let worst = errors.max() ?? .infinity

      print("\(name): \(update.model.parameters.count) parameter tensors, auxiliary head \(update.spec.auxiliaryHead.map(String.init) ?? "n/a"), largest relative gradient error \(worst)")
      // Inception-v3 with ReLU and batch norm at batch 2 is ill-conditioned: PyTorch's own float32
      // gradient of this file differs from its float64 one by 3.8% (first conv's weight).
      let tolerance = name.hasPrefix("inception") ? 0.1 : 1e-3
      #expect(worst < tolerance, "\(name): FedSim's gradient differs from PyTorch's by \(worst)")
    }
  }
}
