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

@Suite("Recorded updates and fedsim attack's outputs")
struct AttackRunTests {
  static func temporaryDirectory() -> String {
    let dir = TemporaryPath.make("fedsim-attack")
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }

  static func smallUpdate(batch: Int = 1) -> RecordedUpdate {
    var gen = SeededGenerator(seed: 51)
    let spec = ModelSpec(name: "lenet", channels: 1, imageSize: 12, classes: 10)
    let model = try! ModelZoo.make(spec, generator: &gen)
    let x = Tensor.uniform([batch, 1, 12, 12], using: &gen)
    return RecordedUpdate(spec: spec, model: model, input: x, labels: Array([4, 1, 8, 6].prefix(batch)))
  }

  @Test(
    "every golden file in the reference folder is a valid update file",
    .enabled(if: SharedData.referenceTestsEnabled, "../shared/reference not found (set FEDSIM_REFERENCE_DIR)"),
    arguments: SharedData.referenceFiles)
  func referenceFilesAreUpdates(path: String) throws {
    let update = try RecordedUpdate(contentsOf: path)
    let file = try SafetensorsFile(contentsOf: path)
    #expect(update.spec.name == "lenet")
    #expect(update.inputShape == file.tensors["input"]!.shape)
    #expect(update.labels == file.tensors["label_onehot"]!.argmax(alongAxis: 1).scalars.map { Int($0) })
    // The shared gradient is what this model, with these weights, gives for the private batch.
    let recomputed = sharedGradient(
      model: update.model, input: update.input!, targets: oneHot(update.labels!, classes: update.spec.classes))
    for (a, b) in zip(recomputed, update.gradient) { #expect(relativeError(a, b) < 1e-4) }
  }

  @Test("an update written and read back is the same update")
  func roundTrip() throws {
    let dir = Self.temporaryDirectory()
    let update = Self.smallUpdate(batch: 2)
    try update.write(to: dir + "/u.safetensors")
    let back = try RecordedUpdate(contentsOf: dir + "/u.safetensors")
    #expect(back.spec == update.spec && back.batch == 2 && back.labels == [4, 1])
    #expect(zip(back.gradient, update.gradient).allSatisfy { $0.scalars == $1.scalars })
    try update.write(to: dir + "/public.safetensors", includingPrivateData: false)
    let blind = try RecordedUpdate(contentsOf: dir + "/public.safetensors")
    #expect(blind.input == nil && blind.labels == nil && blind.batch == 2)
  }

  @Test("a run file's error names the file once, also when its reader's error names it")
  func runFileErrorNamesTheFileOnce() {
    let inner = SafetensorsError.malformed(source: "r.safetensors", reason: "header length 600 runs past the end").description
    #expect(RunFileError.unreadable(path: "r.safetensors", reason: inner).description == inner)
    #expect(inner.hasPrefix("r.safetensors: not a valid safetensors file"))
    #expect(RunFileError.unreadable(path: "r.safetensors", reason: "holds no labels").description == "r.safetensors: holds no labels")
    #expect(RunFileError.unwritable(path: "r.safetensors", reason: "disk full").description == "cannot write r.safetensors: disk full")
  }

  @Test("broken update files are errors that name the file and the fault")
  func brokenFiles() throws {
    let dir = Self.temporaryDirectory()
    let good = Self.smallUpdate()
    try good.write(to: dir + "/good.safetensors")
    let file = try SafetensorsFile(contentsOf: dir + "/good.safetensors")
    func broken(_ name: String, _ edit: (inout SafetensorsFile) -> Void) throws -> String {
      var f = file
      edit(&f)
      let path = dir + "/\(name).safetensors"
      try f.write(to: path)
      do {
        _ = try RecordedUpdate(contentsOf: path)
        return "no error"
      } catch {
        #expect(error.description.contains(path), "\(error)")
        return error.description
      }
    }
    #expect(try broken("nomodel") { $0.metadata["model"] = nil }.contains("no 'model'"))
    #expect(try broken("badsize") { $0.metadata["size"] = "twelve" }.contains("'size'"))
    #expect(try broken("unknown") { $0.metadata["model"] = "alexnet" }.contains("alexnet"))
    #expect(try broken("nograd") { $0.tensors["grad.fc.bias"] = nil }.contains("grad.fc.bias"))
    #expect(try broken("shape") { $0.tensors["grad.fc.weight"] = .zeros([3, 3]) }.contains("[3, 3]"))
    #expect(try broken("nan") { $0.tensors["grad.fc.bias"] = Tensor(repeating: .nan, shape: [10]) }.contains("NaN"))
    #expect(try broken("noweight") { $0.tensors["param.body.0.weight"] = nil }.contains("body.0.weight"))
    #expect(try broken("soft") { $0.tensors["label_onehot"] = Tensor(repeating: 0.1, shape: [1, 10]) }.contains("row 0 of tensor 'label_onehot' is not one 1 among 0s"))
    #expect(try broken("nolabel") { $0.tensors["label_onehot"] = .zeros([1, 10]) }.contains("row 0 of tensor 'label_onehot'"))
    #expect(try broken("straygrad") { $0.tensors["grad.extra.weight"] = .zeros([2]) }.contains("'grad.extra.weight' does not belong"))
    #expect(try broken("batch") { $0.metadata["batch"] = "3" }.contains("input"))
    let truncated = dir + "/truncated.safetensors"
    let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/good.safetensors"))
    try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
    #expect(throws: UpdateFileError.self) { try RecordedUpdate(contentsOf: truncated) }
  }

  @Test("an attack writes metrics.json, history.csv, pictures and the reconstruction")
  func writesOutputs() throws {
    let dir = Self.temporaryDirectory()
    let update = Self.smallUpdate(batch: 2)
    let config = AttackConfiguration(method: .idlg, iterations: 40, seed: 1)
    let (metrics, result, trace) = try AttackRun.run(update: update, configuration: config, snapshotEvery: 10)
    try AttackRun.write(metrics, result, trace, update: update, to: dir)

    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/metrics.json"))) as! [String: Any]
    for key in ["method", "iterations", "evaluations", "wall_s", "mse", "psnr", "ssim", "label_acc", "success"] {
      #expect(json[key] != nil, "metrics.json lacks \(key)")
    }
    #expect(json["method"] as? String == "idlg" && json["iterations"] as? Int == 40)
    #expect((json["psnr"] as! Double) == metrics.psnr! && metrics.labelAccuracy == 1)

    let csv = try String(contentsOfFile: dir + "/history.csv", encoding: .utf8).split(separator: "\n")
    #expect(csv.first == "iteration,distance,mse,min_psnr" && csv.count == 42)

    // Truth above reconstruction: 2 rows of 2 tiles of 12×8 px (scale 96/12) with 1-px gaps.
    let grid = try PNG.read(dir + "/reconstruction.png")
    #expect((grid.width, grid.height, grid.channels) == (2 * 97 + 1, 2 * 97 + 1, 1))
    // Snapshots at 0, 10, …, 40: five columns, one row per image, tiles of 12×5 px.
    let strip = try PNG.read(dir + "/history.png")
    #expect((strip.width, strip.height) == (5 * 61 + 1, 2 * 61 + 1))
    // The same snapshots as an animated PNG, truth above reconstruction.
    let timeline = try PNG.decodeAnimation(Array(Data(contentsOf: URL(fileURLWithPath: dir + "/timeline.png"))), path: "timeline.png")
    #expect(timeline.declared == 5 && timeline.frames.count == 5)
    #expect((timeline.frames[0].width, timeline.frames[0].height) == (2 * 97 + 1, 2 * 97 + 1))
    let svg = try String(contentsOfFile: dir + "/convergence.svg", encoding: .utf8)
    #expect(svg.hasPrefix("<svg") && svg.contains("gradient distance") && svg.contains("image MSE"))
    let saved = try SafetensorsFile(contentsOf: dir + "/reconstruction.safetensors")
    #expect(try saved.tensor("reconstruction").scalars == result.reconstruction.scalars)
  }

  @Test(
    "DLG recovers a real CIFAR-100 image from its update",
    .enabled(if: SharedData.dataTestsEnabled, "../shared/data not found (set FEDSIM_DATA_DIR)"))
  func cifar100() async throws {
    let data = try ImageDataset.load(SharedData.dataDirectory + "/cifar-100/test.bin")
    var gen = SeededGenerator(seed: 0)
    let spec = ModelSpec(name: "lenet", channels: 3, imageSize: 32, classes: 100)
    let update = RecordedUpdate(
      spec: spec, model: try ModelZoo.make(spec, generator: &gen), input: data.images([0]), labels: data.labels([0]))
    let metrics = try await onThread {
      try AttackRun.run(update: update, configuration: AttackConfiguration(method: .dlg, iterations: 150)).metrics
    }
    #expect(metrics.psnr! >= 30 && metrics.labelAccuracy == 1 && metrics.success == true, "\(metrics.summary)")
    #expect(metrics.successIteration != nil)
  }
}
