import Adversary
import Foundation
import Tensors
import TestSupport
import Testing

/// Every golden file in the reference folder, checked against this implementation: LeNet's
/// forward pass, the shared gradient, and for each gradient distance its value and its
/// gradients with respect to the dummy input and label logits (double backprop).
@Suite("PyTorch reference values")
struct ReferenceTests {
  static let tolerance = 1e-4

  @Test(
    "the reference folder has golden files",
    .enabled(if: SharedData.referenceTestsEnabled, "../shared/reference not found (set FEDSIM_REFERENCE_DIR)"))
  func folderIsPresent() {
    #expect(
      !SharedData.referenceFiles.isEmpty,
      "no *.safetensors in \(SharedData.referenceDirectory): CI needs ../shared beside the clone")
  }

  @Test("LeNet forward, gradients and gradient distances match PyTorch", arguments: SharedData.referenceFiles)
  func matchesPyTorch(path: String) throws {
    let file = try SafetensorsFile(contentsOf: path)
    let meta = file.metadata
    let name = URL(fileURLWithPath: path).lastPathComponent
    try #require(meta["model"] == "lenet", "\(name): model '\(meta["model"] ?? "?")' is not covered yet")
    let channels = try #require(meta["channels"].flatMap(Int.init))
    let size = try #require(meta["size"].flatMap(Int.init))
    let classes = try #require(meta["classes"].flatMap(Int.init))

    var gen = SeededGenerator(seed: 0)
    var model = LeNet(channels: channels, classes: classes, imageSize: size, generator: &gen)
    var params: [String: Tensor] = [:]
    for key in file.names where key.hasPrefix("param.") { params[String(key.dropFirst(6))] = file.tensors[key] }
    try model.loadStateDict(params)

    let input = try file.tensor("input")
    let onehot = try file.tensor("label_onehot")
    let logits = model(input)
    #expect(relativeError(logits, try file.tensor("logits")) < Self.tolerance, "\(name): logits")
    let loss = softCrossEntropy(logits: logits, targets: onehot)
    #expect(relativeError(loss.reshaped(to: [1]), try file.tensor("loss")) < Self.tolerance, "\(name): loss")

    let names = model.namedParameters.map(\.name)
    let grads = sharedGradient(model: model, input: input, targets: onehot)
    for (n, g) in zip(names, grads) {
      let err = relativeError(g, try file.tensor("grad.\(n)"))
      #expect(err < Self.tolerance, "\(name): grad.\(n) relative error \(err)")
    }

    let shared = try names.map { try file.tensor("grad.\($0)") }
    // The golden files hold the three distances PyTorch's anchor defines; WDLG's is their sum
    // of l2 and a sorted term, checked in `WassersteinTermTests`.
    for distance in [GradientDistance.l2, .sortedWasserstein, .cosine] {
      let key = distance.rawValue
      let objective = DLGObjective(model: model, sharedGradient: shared, distance: distance)
      let r = objective.evaluate(
        input: try file.tensor("dummy.input"), labelLogits: try file.tensor("dummy.label_logits"))
      let dErr = relativeError(Tensor([r.value]), try file.tensor("\(key).distance"))
      let xErr = relativeError(r.inputGradient, try file.tensor("\(key).grad_input"))
      let yErr = relativeError(r.labelGradient!, try file.tensor("\(key).grad_label_logits"))
      #expect(dErr < Self.tolerance, "\(name): \(key) distance relative error \(dErr)")
      #expect(xErr < Self.tolerance, "\(name): \(key) ∂/∂input relative error \(xErr)")
      #expect(yErr < Self.tolerance, "\(name): \(key) ∂/∂label_logits relative error \(yErr)")
    }
  }
}
