import FedData
import FedSimCore
import FedSimKit
import Foundation
import Tensors
import TestSupport
import Testing

/// The model's input in a scenario: its size (the data resized and centre-cropped to it), its
/// normalisation, where its activation goes, Inception-v3's head, and model sweeps whose values
/// carry their own settings.
@Suite("Model inputs in scenarios")
struct ModelInputScenarioTests {
  @Test("model keys resolve into the model: size, normalize, activation_scope, auxiliary_head")
  func keys() throws {
    let s = try TestScenario.resolve(
      "dataset: {path: shapes, count: 8}\nfederation: {local_batch: 2}\n"
        + "model: {name: inception_v3, size: 80, normalize: imagenet, activation: sigmoid, activation_scope: modules, auxiliary_head: false}")
    #expect(s.model.imageSize == 80 && s.model.normalization == .imageNet && s.model.activationScope == .modules)
    #expect(s.model.auxiliaryHead == false && s.model.activation == .sigmoid)
    let custom = try TestScenario.resolve("dataset: {path: shapes, count: 8}\nmodel: {normalize: '0.5,0.5,0.5/0.25,0.25,0.25'}")
    #expect(custom.model.normalization?.std == [0.25, 0.25, 0.25] && custom.model.imageSize == 32)
    let mapping = try TestScenario.resolve(
      "dataset: {path: shapes, count: 8}\nmodel: {normalize: {mean: [0.5, 0.4, 0.3], std: [0.25, 0.2, 0.5]}}")
    #expect(mapping.model.normalization == Normalization(mean: [0.5, 0.4, 0.3], std: [0.25, 0.2, 0.5]))
  }

  @Test("a mapping normalisation is written back as the text form, which reads back the same")
  func mappingRoundTrip() throws {
    let file = try TestScenario.file("model: {normalize: {mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]}}")
    #expect(file.model?.normalize?.text == "0.5,0.5,0.5/0.25,0.25,0.25")
    let json = try JSONEncoder().encode(file.model)
    #expect(String(decoding: json, as: UTF8.self).contains("\"normalize\":\"0.5,0.5,0.5\\/0.25,0.25,0.25\""))
    #expect(try JSONDecoder().decode(ScenarioFile.ModelSection.self, from: json) == file.model)
  }

  @Test("bad model inputs are errors naming the key")
  func errors() throws {
    for (yaml, key) in [
      ("model: {normalize: imagenette}", "model.normalize"), ("model: {normalize: '1,2/3,4'}", "model.normalize"),
      ("model: {name: inception_v3, size: 64}", "model"), ("model: {size: 2}", "model.size"),
      ("model: {name: resnet18, auxiliary_head: false}", "'resnet18': has no auxiliary head"),
      ("model: {activation_scope: some}", "activation_scope"),
      ("model: {normalize: {mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2], foo: 1}}", "'model.normalize.foo'"),
      ("model: {normalize: {mean: [0.5, 0.5, 0.5]}}", "'model.normalize.std': missing"),
      ("model: {normalize: {mean: [0.5, 0.5], std: [0.2, 0.2, 0.2]}}", "needs 3 means and 3 stds"),
      ("model: {normalize: [1, 2]}", "{mean: [...], std: [...]}"),
      ("model: {activation: tanhh}", "'tanhh' is not one of sigmoid, tanh, relu, leaky-relu"),
      ("attack: {method: dlgg}", "'dlgg' is not one of dlg, idlg, wdlg, ig, rgap"),
      ("model: {name: densenet121, size: 32}", "federation.local_batch"),  // one value a channel in norm5
      ("model: {name: inception_v3, size: 100}", "images of at least 107×107"),
      ("model: {name: densenet121, size: 32}\nfederation: {local_batch: 2}\ndp_sgd: {clip: 1}", "each image's gradient alone"),
      ("model: {name: densenet121, size: 32}\nfederation: {local_batch: 2}\ndp_sgd: {clip: 1}", "at least 61×61"),
    ] {
      #expect(throws: ScenarioError.self, "\(yaml)") { try TestScenario.resolve("dataset: {path: shapes, count: 8}\n" + yaml) }
      do { _ = try TestScenario.resolve("dataset: {path: shapes, count: 8}\n" + yaml) } catch {
        #expect("\(error)".contains(key), "\(yaml): \(error)")
      }
    }
  }

  @Test("a model sweep takes names or sections with their own local batch and attack budget; unknown keys are errors")
  func sweep() throws {
    let file = try TestScenario.file(
      """
      dataset: {path: shapes, count: 8}
      attack: {iterations: 300}
      sweep:
        model:
          - lenet
          - {name: resnet18, size: 64, normalize: imagenet, iterations: 20}
          - {name: inception_v3, size: 75, auxiliary_head: false, local_batch: 2, iterations: 5}
      """)
    let points = try file.design(source: "t").points
    #expect(points.map(\.label) == ["model=lenet", "model=resnet18-64", "model=inception_v3-75"])
    #expect(points.map(\.scenario.attack?.iterations) == [300, 20, 5])
    #expect(points.map(\.scenario.federation.localBatch) == [1, 1, 2])
    #expect(points[1].scenario.model.normalization == .imageNet && points[0].scenario.model.normalization == nil)
    #expect(points[2].scenario.model.auxiliaryHead == false && points[2].scenario.model.imageSize == 75)
    #expect(throws: ScenarioError.self) {
      try TestScenario.file("dataset: {path: shapes, count: 8}\nsweep:\n  model:\n    - {name: lenet, colour: red}").design(source: "t")
    }
  }

  @Test("a normalised, resized federation: the client's truth and the adversary's reconstruction are pixels, and the attack leaks")
  func normalisedFederation() async throws {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let scenario = try TestScenario.file(
      """
      name: normalised
      dataset: {path: shapes, count: 6, test_fraction: 0}
      model: {size: 24, normalize: imagenet, classes: 10}
      federation: {clients: 1, rounds: 1, deadline: 30}
      attack: {method: idlg, iterations: 150, restarts: 2}
      """)
    let folder = RunFolder(TemporaryPath.make("fedsim-normalised"))
    defer { try? FileManager.default.removeItem(atPath: folder.path) }
    let plan = try RunPlan(design: scenario.design(source: "t"), file: scenario, folder: folder, binaries: binaries)
    let summary = try await onThread { try plan.run() }
    let point = plan.pointFolder(0, repeat: 0)
    let truth = try PrivateBatch(contentsOf: point.truth(round: 1, client: 0)).images
    #expect(truth.shape == [1, 3, 24, 24])
    #expect(truth.scalars.allSatisfy { $0 >= 0 && $0 <= 1 }, "the truth is pixels, not the normalised input")
    // The shape as the client holds it: the built-in 32×32 shape resized to 24, as torchvision does.
    let resized = ImageDataset.shapes(count: 6, seed: 0).images(Array(0..<6), transform: ImageTransform(resize: 24, centerCrop: 24))
    let nearest = (0..<6).map { k in
      zip(resized.sliced(alongAxis: 0, k..<(k + 1)).scalars, truth.scalars).map { Swift.abs($0 - $1) }.max() ?? 1
    }.min() ?? 1
    #expect(nearest < 1e-6, "the truth is one of the shapes resized to 24: \(nearest)")
    let recon = try Reconstruction(contentsOf: point.reconstruction(round: 1, client: 0)).images
    #expect(recon.scalars.min() ?? -1 > -0.5 && recon.scalars.max() ?? 2 < 1.5, "the reconstruction is stored as pixels")
    // The report shows how the reconstruction emerged: a strip of steps and MSE against iteration.
    let html = try String(contentsOfFile: folder.path + "/report.html", encoding: .utf8)
    #expect(html.contains("How the reconstruction emerges") && html.contains("truth, then steps 0, 10, 50, 100, 150"))
    #expect(html.contains("MSE of the reconstruction against the truth"))
    let psnr = try #require(summary.first?.psnr.mean)
    #expect(psnr > 25, "the attack on the normalised model leaks: \(psnr) dB")
  }
}
