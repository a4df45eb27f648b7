import Foundation
import Tensors
import TestSupport
import Testing

/// The golden files of `tools/make_model_reference.py` (Tests/Fixtures/models).
let modelReferenceFiles: [String] = {
  let dir = SharedData.repositoryRoot + "/Tests/Fixtures/models"
  let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
  return names.filter { $0.hasSuffix(".safetensors") }.sorted().map { dir + "/" + $0 }
}()

@Suite("Zoo blocks and models against PyTorch (float64)")
struct ModelReferenceTests {
  @Test("the model fixtures are there")
  func fixturesExist() { #expect(modelReferenceFiles.count >= 14) }

  /// Builds the block or model a fixture describes.
  static func build(_ meta: [String: String]) throws -> AnyModel {
    let options = try JSONSerialization.jsonObject(with: Data(meta["options"]!.utf8)) as! [String: Any]
    func int(_ key: String) -> Int { options[key] as! Int }
    let activation = (options["activation"] as? String).flatMap(Activation.init(rawValue:)) ?? .relu
    var g = SeededGenerator(seed: 0)
    let ini = Initializer.pytorchDefault
    switch meta["case"]! {
    case "basicblock":
      return AnyModel(BasicBlock(int("inputs"), int("outputs"), stride: int("stride"), activation: activation, initializer: ini, generator: &g))
    case "denselayer":
      return AnyModel(DenseLayer(int("inputs"), growth: int("growth"), activation: activation, initializer: ini, generator: &g))
    case "transition":
      return AnyModel(Transition(int("inputs"), int("outputs"), activation: activation, initializer: ini, generator: &g))
    case "inception_a": return AnyModel(InceptionModule.a(int("inputs"), poolFeatures: int("pool_features"), .relu, ini, &g))
    case "inception_b": return AnyModel(InceptionModule.b(int("inputs"), .relu, ini, &g))
    case "inception_c": return AnyModel(InceptionModule.c(int("inputs"), c7: int("channels_7x7"), .relu, ini, &g))
    case "inception_d": return AnyModel(InceptionModule.d(int("inputs"), .relu, ini, &g))
    case "inception_e": return AnyModel(InceptionModule.e(int("inputs"), .relu, ini, &g))
    case "inception_aux":
      return AnyModel(InceptionAux(int("inputs"), classes: int("classes"), activation: .relu, initializer: ini, generator: &g))
    case "batchnorm": return AnyModel(BatchNorm2d(int("channels"), generator: &g))
    case "cnn6": return try ModelZoo.make(ModelSpec(name: "cnn6", classes: int("classes")), generator: &g)
    case "mlp": return try ModelZoo.make(ModelSpec(name: "mlp", channels: 1, imageSize: 28, classes: 10, hidden: [32]), generator: &g)
    case "resnet18":
      return try ModelZoo.make(
        ModelSpec(name: "resnet18", imageSize: 32, classes: int("classes"), activation: activation, stem: .cifar), generator: &g)
    case let other: throw ModelError.unknownModel(other)
    }
  }

  @Test("output, parameter gradients, input gradient and double backprop match", arguments: modelReferenceFiles)
  func matches(path: String) throws {
    let file = try SafetensorsFile(contentsOf: path)
    let name = URL(fileURLWithPath: path).lastPathComponent
    let seed = UInt64(file.metadata["seed"]!)!
    var model = try Self.build(file.metadata)
    let state = Dictionary(uniqueKeysWithValues: model.stateDict.map { ($0.name, DeterministicTensors.make($0.name, shape: $0.tensor.shape, seed: seed)) })
    try model.loadStateDict(state)
    let expectedNames = try JSONSerialization.jsonObject(with: Data(file.metadata["parameters"]!.utf8)) as! [String]
    #expect(model.namedParameters.map(\.name) == expectedNames, "\(name): parameter names")

    let m = model.requiringGradients()
    let input = try file.tensor("input")
    #expect(input.scalars == DeterministicTensors.make("input", shape: input.shape, seed: seed).scalars, "\(name): the generators agree")
    let x = input.requiringGradient()
    func loss(_ x: Tensor) -> (Tensor, Tensor) {
      let y = m(x)
      return (y, (y * DeterministicTensors.make("probe.output", shape: y.shape, seed: seed)).sum())
    }
    let (y, L) = loss(x)
    let tolerance = 2e-4
    #expect(relativeError(y, try file.tensor("output")) < tolerance, "\(name): output")
    let grads = gradients(of: L, wrt: m.parameters + [x])
    #expect(relativeError(grads.last!, try file.tensor("grad.input")) < tolerance, "\(name): ∂L/∂input")
    var projected: [Float] = [], expected: [Float] = []
    for ((pname, p), g) in zip(m.namedParameters, grads) {
      projected.append((g * DeterministicTensors.make("probe." + pname, shape: p.shape, seed: seed)).sum().scalar)
      expected.append(try file.tensor("projection." + pname).scalar)
    }
    #expect(relativeError(Tensor(projected), Tensor(expected)) < tolerance, "\(name): ∂L/∂parameters (projected)")

    let truth = Array(grads.dropLast())
    let dx = DeterministicTensors.make("dummy.input", shape: input.shape, seed: seed).requiringGradient()
    let dg = gradients(of: loss(dx).1, wrt: m.parameters, createGraph: true)
    let distance = zip(dg, truth).map { ($0 - $1).pow(2).sum() }.reduce(Tensor(0), +)
    #expect(relativeError(distance.reshaped(to: [1]), try file.tensor("distance")) < tolerance, "\(name): gradient distance")
    let gdx = gradients(of: distance, wrt: [dx])[0]
    let err = relativeError(gdx, try file.tensor("grad.dummy_input"))
    #expect(err < tolerance, "\(name): double-backprop ∂distance/∂dummy input, relative error \(err)")
  }
}
