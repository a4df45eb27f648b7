import FedSimKit
import FedData
import Adversary
import ArgumentParser
import FedSimCore
import Foundation
import Tensors

extension AttackMethod: ExpressibleByArgument {}
extension Activation: ExpressibleByArgument {}
extension ActivationScope: ExpressibleByArgument {}
extension DummyInitialization: ExpressibleByArgument {}
extension GradientDistance: ExpressibleByArgument {}

struct Attack: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Reconstruct the private images behind a recorded update (safetensors).",
    discussion: """
      The update file holds the model weights as param.<name>, the shared gradient as \
      grad.<name>, and metadata model, classes, channels, size (optionally batch, activation, \
      normalize). If it also holds input and label_onehot, they are used only to score the \
      attack. The attack optimises in the model's input space and scores in pixels, with the \
      normalisation undone (metadata normalize, or --normalize). Writes \
      metrics.json, history.csv, reconstruction.png, history.png, convergence.svg and \
      reconstruction.safetensors to --out.

      Examples:
        fedsim attack --out attack-out
        fedsim attack --update update.safetensors --method idlg --iterations 300
        fedsim attack --method rgap
        fedsim attack --update resnet18.safetensors --normalize imagenet --restarts 1
      """)

  @Option(help: "The update file (default: a built-in update of a shapes image on the DLG LeNet).")
  var update: String?
  @Option(help: "dlg, idlg, wdlg, ig or rgap (closed form, no iterations).") var method: AttackMethod = .dlg
  @Option(help: "L-BFGS steps (DLG family; default 300) or Adam steps (IG; default 4800).")
  var iterations: Int?
  @Option(help: "The most random starts; the one nearest the shared gradient is kept, and no more are drawn once one converges.")
  var restarts = 4
  @Option(help: "The seed of the dummy images and labels.") var seed: UInt64 = 0
  @Option(name: .customLong("init"), help: "How the dummy images start: normal (DLG's randn), uniform over the pixel range, or rgap (R-GAP's closed-form images and labels, then polished; R-GAP's models only) (default: normal for one image, uniform for a batch).")
  var initialization: DummyInitialization?
  @Option(help: "The gradient distance to minimise: l2, layer-l2 (each layer over its own size), cosine, wdlg or wasserstein (default: the method's own).")
  var distance: GradientDistance?
  @Option(help: "The learning rate (default: 1 for L-BFGS, 0.1 for IG's Adam).")
  var learningRate: Float?
  @Option(help: "The total-variation weight (IG).") var tv: Float = 1e-2
  @Option(help: "PSNR (dB) at which an image counts as recovered.") var threshold = 30.0
  @Option(help: "The folder to write the results into (default: attacks/UPDATE-TIME); one that already holds an attack's results is refused.")
  var out: String?
  @Option(help: "Threads for the products and the passes between them, 1 to four a core (default: OPENBLAS_NUM_THREADS, else 1).") var threads: Int?
  @Option(help: "The model's input normalisation, when the file does not say: imagenet, none, or MEAN,…/STD,….")
  var normalize: String?
  @Option(help: "Where the activation goes, when the file does not say: all, or modules (as torchvision's nn.ReLU modules swapped: DenseNet's last and Inception's ReLUs stay).")
  var activationScope: ActivationScope?

  func validate() throws {
    // The bounds a scenario's attack has (`ScenarioLimits`), checked before any work: a NaN
    // threshold ran the whole attack and then could not write its results.
    if let iterations, !(1...ScenarioLimits.iterations).contains(iterations) {
      throw ValidationError("--iterations must be 1 to \(ScenarioLimits.iterations)")
    }
    if !(1...ScenarioLimits.restarts).contains(restarts) { throw ValidationError("--restarts must be 1 to \(ScenarioLimits.restarts)") }
    if let learningRate, !(learningRate.isFinite && learningRate > 0 && learningRate <= 1e6) {
      throw ValidationError("--learning-rate must be a positive number up to 1e6")
    }
    if !(tv.isFinite && tv >= 0) { throw ValidationError("--tv must be a number ≥ 0") }
    if !threshold.isFinite { throw ValidationError("--threshold must be a number of dB") }
    _ = try ThreadsOption.resolve(threads)
    if initialization == .rgap && method == .rgap { throw ValidationError("--init rgap starts an optimising method from R-GAP's images: use it with dlg, idlg, wdlg or ig") }
  }

  func run() throws {
    BLAS.threads = try ThreadsOption.resolve(threads)
    var recorded: RecordedUpdate
    if let update {
      do { recorded = try RecordedUpdate(contentsOf: update, activationScope: activationScope) } catch { throw fail("\(error)") }
      if let normalize { recorded.normalization = try parseNormalize(normalize, channels: recorded.spec.channels) }
      if recorded.normalization == nil, let x = recorded.input, let lo = x.scalars.min(), let hi = x.scalars.max(), lo < -0.01 || hi > 1.01 {
        warn(String(format: "the recorded input spans [%.2f, %.2f], not [0, 1]: scored as it is; if the model's input is normalised, say how with --normalize (e.g. imagenet)", lo, hi))
      }
    } else {
      recorded = try Self.builtInUpdate()
      print("attacking the built-in update: shapes image 0 on the DLG LeNet (10 classes, seed 0)")
    }
    let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
    let stem = update.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent } ?? "built-in"
    let out = self.out ?? "attacks/\(stem)-\(stamp)"
    try Self.prepareFolder(out)
    let configuration = AttackConfiguration(
      method: method, iterations: iterations, restarts: restarts, seed: seed,
      learningRate: learningRate, totalVariation: tv, initialization: initialization, distance: distance)
    let total = Swift.max(1, configuration.iterations * configuration.restarts)
    let bar = ProgressBar(total: total, label: method.rawValue)
    let (metrics, result, trace): (AttackMetrics, AttackResult, AttackRun.Trace)
    do {
      (metrics, result, trace) = try AttackRun.run(
        update: recorded, configuration: configuration, threshold: threshold
      ) { p in bar.update(p.trial * configuration.iterations + p.iteration) }
    } catch { throw fail(error.description) }
    bar.update(total)
    for layer in result.layers {
      print(layer.determined ? "  " + layer.summary : "  warning: " + layer.summary + ": this layer's input is not determined")
    }
    do { try AttackRun.write(metrics, result, trace, update: recorded, to: out) } catch {
      throw fail("cannot write the results to \(out): \(describe(error))")
    }
    print(metrics.summary + " → \(out)/")
  }
}

extension Attack {
  /// Makes `out` (a folder) and checks that it takes files, before the attack: its results,
  /// perhaps hours of work on a big model, were otherwise lost to a mistyped or read-only --out.
  /// A folder that already holds an earlier attack's results is refused: they are never written over.
  static func prepareFolder(_ out: String) throws {
    let fm = FileManager.default
    if let earlier = AttackRun.outputs.first(where: { fm.fileExists(atPath: out + "/" + $0) }) {
      throw fail("\(out) already holds an attack's results (\(earlier)): a new attack never writes over them; choose another --out")
    }
    do { try fm.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
      throw fail("cannot write the results to \(out): \(describe(error))")
    }
    guard fm.isWritableFile(atPath: out) else { throw fail("cannot write the results to \(out): the folder is read-only") }
  }

  /// What a FedSGD client shares for the first image of the built-in shapes dataset.
  static func builtInUpdate() throws -> RecordedUpdate {
    let shapes = ImageDataset.shapes(count: 10)
    let spec = ModelSpec(name: "lenet", channels: shapes.channels, imageSize: shapes.height, classes: shapes.classes)
    var generator = SeededGenerator(seed: 0)
    let model = try ModelZoo.make(spec, generator: &generator)
    return RecordedUpdate(spec: spec, model: model, input: shapes.images([0]), labels: shapes.labels([0]))
  }
}

struct Record: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Record the update a FedSGD client would share for some dataset images.",
    discussion: """
      The model's weights come from --seed; the file also holds the private batch, for scoring.

      Example:
        fedsim record --data ../shared/data/cifar-100/test.bin --out update.safetensors
      """)

  @Option(help: "A dataset file or folder, or 'shapes' for the built-in set.", completion: .file()) var data: String
  @Option(help: "The first image.") var index = 0
  @Option(help: "Consecutive images in the batch.") var batch = 1
  @Option(help: "A model of the zoo.") var model = "lenet"
  @Option(help: "Classes of the model's output (default: the dataset's).") var classes: Int?
  @Option(help: "The seed of the model's weights.") var seed: UInt64 = 0
  @Option(help: "Resize (antialiased bilinear) and centre-crop the images to SIZE×SIZE, as torchvision does (default: their own size).")
  var size: Int?
  @Option(help: "The model's input normalisation: none, imagenet, or MEAN,…/STD,….") var normalize = "none"
  @Option(help: "The model's activation: relu, sigmoid, tanh, leaky-relu … (default: the model's own).")
  var activation: Activation?
  @Option(help: "Where it goes: all, or modules (only where torchvision has nn.ReLU modules).")
  var activationScope: ActivationScope?
  @Option(help: "The update file to write.") var out: String

  func validate() throws {
    if let size, !(4...1024).contains(size) { throw ValidationError("--size must be 4 to 1024") }
    if !(1...64).contains(batch) { throw ValidationError("--batch must be 1 to 64") }
    if let classes, !(2...ScenarioLimits.classes).contains(classes) {
      throw ValidationError("--classes must be 2 to \(ScenarioLimits.classes), as an update file's metadata")
    }
  }

  func run() throws {
    let dataset = try loadDataset(data)
    guard dataset.height == dataset.width else { throw fail("\(data): images are not square") }
    guard batch >= 1, index >= 0, index + batch <= dataset.count else {
      throw fail("\(data) has \(dataset.count) images; \(index)..<\(index + batch) is out of range")
    }
    let spec = ModelSpec(
      name: model, channels: dataset.channels, imageSize: size ?? dataset.height,
      classes: classes ?? dataset.classes, activation: activation, auxiliaryHead: model == "inception_v3" ? false : nil,
      activationScope: activationScope, normalization: try parseNormalize(normalize, channels: dataset.channels))
    var generator = SeededGenerator(seed: seed)
    let net: AnyModel
    do {
      try ModelZoo.check(spec, batch: batch)
      net = try ModelZoo.make(spec, generator: &generator)
    } catch { throw fail("\(error)") }
    let indices = Array(index..<(index + batch))
    let labels = dataset.labels(indices)
    guard labels.allSatisfy({ $0 < spec.classes }) else {
      throw fail("labels reach \(labels.max()!), beyond the model's \(spec.classes) classes")
    }
    let pixels = dataset.images(indices, transform: ImageTransform(resize: size, centerCrop: size))
    let update = RecordedUpdate(spec: spec, model: net, input: spec.input(pixels), labels: labels)
    do { try update.write(to: out) } catch {
      throw fail("\(RunFileError.unwritable(path: out, reason: describe(error)))")  // names the file once
    }
    reportWritten(
      "wrote \(out): \(model) (\(spec.classes) classes, \(spec.activation.rawValue), \(spec.imageSize)×\(spec.imageSize), "
        + "normalised: \(spec.normalization?.text ?? "no")), images \(index)…\(index + batch - 1) with labels \(labels)", to: out)
  }
}

/// `--normalize TEXT` for images of `channels` channels, or exits naming the option.
func parseNormalize(_ text: String, channels: Int) throws -> Normalization? {
  do { return try Normalization.parse(text, channels: channels) } catch { throw fail("--normalize \(text): \(error)") }
}

/// A file-system error as a person reads it: the POSIX reason when there is one.
func describe(_ error: Error) -> String {
  let ns = error as NSError
  return ns.domain == NSPOSIXErrorDomain || error is FileOutput.Failure || ns.userInfo[NSUnderlyingErrorKey] != nil
    ? FileOutput.reason(error) : "\(error)"
}
