import FedSimKit
import FedData
import ArgumentParser
import FedSimCore
import Foundation
import Tensors

@main
struct FedSimCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fedsim",
    abstract: "A federated-learning testbed that shows and measures gradient leakage.",
    version: "fedsim " + FedSimVersion.description,
    subcommands: [Bench.self, Demo.self, Run.self, RunTask.self, Prepare.self, Score.self, Report.self, Attack.self, Record.self, Models.self, DataCommand.self, Version.self])

  /// A mistyped subcommand gets the nearest one suggested, before the parser's own message.
  static func main() {
    let arguments = Array(CommandLine.arguments.dropFirst())
    if let first = arguments.first, !first.hasPrefix("-") {
      let names = configuration.subcommands.map { $0._commandName } + ["help"]
      if !names.contains(first), let near = CommandSuggestion.nearest(first, in: names) {
        FileHandle.standardError.write(Data("error: '\(first)' is not a fedsim command. Did you mean '\(near)'?\nSee 'fedsim --help'.\n".utf8))
        Foundation.exit(64)
      }
    }
    main(nil)
  }
}

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Time the DLG objective and its gradient on the DLG LeNet.",
    discussion: """
      Examples:
        fedsim bench
        fedsim bench --evals 200 --no-attack --no-transfer
        fedsim bench --torch ../torch-venv/bin/python --threads 1
        fedsim bench --big-models --no-dlg --no-training --no-attack --no-transfer --torch ../torch-venv/bin/python
      """)

  @Flag(help: "Print one JSON object per line.") var json = false
  @Option(help: "Timed evaluations per batch-1 case (batch 8 runs a quarter as many).") var evals = 1000
  @Option(help: "Threads for the products and the passes between them, 1 to four a core (default: OPENBLAS_NUM_THREADS, else 1).") var threads: Int?
  @Option(help: "A Python with torch, to time the PyTorch anchor beside FedSim in the same run.")
  var torch: String?
  @Option(help: "The folder of the PyTorch anchor scripts.") var anchors = "../shared/anchors"
  @Option(help: "Run only the cases with this batch size.") var batch: Int?
  @Option(help: "Run only the cases with this many classes.") var classes: Int?
  @Flag(inversion: .prefixedNo, help: "Time the DLG objective cases.")
  var dlg = true
  @Flag(inversion: .prefixedNo, help: "Also time LeNet-ReLU training on MNIST-shaped input.")
  var training = true
  @Option(help: "The model the training case trains: lenet or fedavg_cnn (PyTorch is timed for lenet only).")
  var trainModel = "lenet"
  @Option(help: "The training case's batch size.") var trainBatch = 64
  @Flag(inversion: .prefixedNo, help: "Also time a ResNet-18-sized update going client → server → adversary.")
  var transfer = true
  @Flag(inversion: .prefixedNo, help: "Also time a whole 300-step DLG attack on a CIFAR-100 image.")
  var attack = true
  @Option(help: "The CIFAR-100 test file for the attack (the built-in shapes when it is missing).")
  var attackData = "../shared/data/cifar-100/test.bin"
  @Option(help: "The image the attack reconstructs.") var attackImage = 0
  @Flag(help: "Also time one DLG evaluation on ResNet-18 (224), DenseNet-121 (224) and Inception-v3 (299, batch 2), sigmoid.")
  var bigModels = false
  @Option(help: "Timed evaluations per big model.") var bigEvals = 5
  @Option(help: "Time only this big model (resnet18, densenet121 or inception_v3).") var bigModel: String?
  @Option(help: "Rounds of --big-evals evaluations per big model, PyTorch's timed after each of FedSim's (with --torch), so each round's ratio is taken in one state of the machine.")
  var bigRounds = 1

  func validate() throws {
    guard evals >= 1, bigEvals >= 1, bigRounds >= 1 else { throw ValidationError("--evals, --big-evals and --big-rounds must be at least 1") }
    _ = try ThreadsOption.resolve(threads)
    if let bigModel, !BigModelBenchmark.Case.standard.contains(where: { $0.model == bigModel }) {
      throw ValidationError("--big-model is one of resnet18, densenet121, inception_v3")
    }
    if let torch { try validateAnchors(python: torch) }
  }

  /// With `--torch`: the Python and every anchor script the chosen benchmarks run are there, so
  /// that a wrong path stops the bench before FedSim's half runs, naming what is missing.
  private func validateAnchors(python: String) throws {
    let scripts = [
      (dlg, TorchAnchor.Script.dlgEvaluations), (training, TorchAnchor.Script.training),
      (attack, TorchAnchor.Script.attack), (bigModels, TorchAnchor.Script.bigModels),
    ].filter(\.0).map(\.1)
    do { try TorchAnchor(python: python, anchorsDirectory: anchors).check(scripts: scripts) } catch {
      throw ValidationError(error.message)
    }
  }

  func run() throws {
    let threads = try ThreadsOption.resolve(threads)
    BLAS.threads = threads
    let anchor = torch.map { TorchAnchor(python: $0, anchorsDirectory: anchors) }
    let cases = DLGBenchmarkCase.standard.filter {
      dlg && (batch == nil || $0.batch == batch) && (classes == nil || $0.classes == classes)
    }
    if dlg && cases.isEmpty { throw ValidationError("no benchmark case has that batch size and class count") }
    for c in cases { try benchObjective(c, threads: threads, anchor: anchor) }
    if training { try benchTraining(threads: threads, anchor: anchor) }
    if attack { try benchAttack(threads: threads, anchor: anchor) }
    if bigModels {
      let chosen = BigModelBenchmark.Case.standard.filter { bigModel == nil || $0.model == bigModel }
      let peak = BLAS.peakGFLOPs()
      for c in chosen { try benchBigModel(c, threads: threads, anchor: anchor, peak: peak) }
    }
    if transfer {
      let r = try TransferBenchmark.run()
      if json {
        try printJSONLine(r)
      } else {
        print(String(format: "update transfer  client → server → adversary over loopback  %d parameters (%.1f MB)  %.3f s", r.parameters, r.megabytes, r.seconds))
      }
    }
    if !json { print(String(format: "peak memory: %.1f MiB", ProcessMemory.peakMiB())) }
  }

  func benchObjective(_ c: DLGBenchmarkCase, threads: Int, anchor: TorchAnchor?) throws {
    let n = c.batch == 1 ? evals : Swift.max(1, evals / 4)
    var r = DLGBenchmark.run(c, evals: n)
    // The anchor has l2, cosine and the sorted-values Wasserstein, not WDLG's distance.
    if let anchor, c.distance != .wasserstein {
      let t = try anchor.run(
        script: TorchAnchor.Script.dlgEvaluations,
        arguments: [
          "--threads", "\(threads)", "--evals", "\(n)", "--batch", "\(c.batch)",
          "--classes", "\(c.classes)", "--loss", c.distance.rawValue,
        ], threads: threads)
      r.torchMsPerEval = t["ms_per_eval"] as? Double
      r.speedupOverTorch = r.torchMsPerEval.map { $0 / r.msPerEval }
    }
    if json { return try printJSONLine(r) }
    var line = String(
      format: "DLG objective  lenet %dx%dx%d  batch %d  classes %3d  %@  %.3f ms/eval  (%d evals, %d thread%@)",
      r.channels, r.size, r.size, r.batch, r.classes, r.loss, r.msPerEval, r.evals, r.threads,
      r.threads == 1 ? "" : "s")
    if let t = r.torchMsPerEval, let s = r.speedupOverTorch {
      line += String(format: "  pytorch %.3f ms  ×%.1f", t, s)
    } else if anchor != nil {
      line += "  pytorch: no anchor for this distance"
    }
    print(line + String(
      format: "  rss %.1f→%.1f MiB  products %.1f MFLOP at %.0f GFLOP/s", r.rssStartMiB, r.rssEndMiB,
      r.productMFLOPPerEval, r.productMFLOPPerEval / r.msPerEval))
  }

  /// `--big-rounds` rounds of `--big-evals` evaluations, PyTorch's script run after each of
  /// FedSim's: each round's ratio compares two figures taken a minute apart at most.
  func benchBigModel(_ c: BigModelBenchmark.Case, threads: Int, anchor: TorchAnchor?, peak: Double) throws {
    var prepared = try BigModelBenchmark.Prepared(c)
    var torch: [(ms: Double, peak: Double?)] = []
    var ratios: [Double] = []
    for _ in 0..<bigRounds {
      let ours = prepared.time(evals: bigEvals)
      guard let anchor else { continue }
      let t = try anchor.run(
        script: TorchAnchor.Script.bigModels, arguments: [c.model, "\(c.size)", "--threads", "\(threads)", "--evals", "\(bigEvals)"],
        threads: threads)
      guard let ms = t["ms_per_eval"] as? Double else { throw fail("\(TorchAnchor.Script.bigModels) printed no ms_per_eval") }
      torch.append((ms, t["anchor_peak_rss_mib"] as? Double))
      ratios.append(ms / ours)
    }
    var r = prepared.result(peak: peak)
    if !torch.isEmpty {
      r.torchMsPerEval = torch.map(\.ms).reduce(0, +) / Double(torch.count)
      r.torchPeakRSSMiB = torch.compactMap(\.peak).max()
      r.speedupOverTorch = r.torchMsPerEval.map { $0 / r.msPerEval }
      r.roundSpeedups = ratios
    }
    if json { return try printJSONLine(r) }
    var line = String(
      format: "DLG objective  %@ 3x%dx%d  batch %d  sigmoid  %.0f ms/eval, best %.0f  (%d evals, %d thread%@, peak %.0f MiB; "
        + "%.1f GFLOP of products, floor %.0f ms at %.0f GFLOP/s)",
      r.model, r.size, r.size, r.batch, r.msPerEval, r.bestMs, r.evals, r.threads, r.threads == 1 ? "" : "s", r.peakRSSMiB,
      r.gflopPerEval, r.floorMs, r.peakGFLOPs)
    if let t = r.torchMsPerEval, let s = r.speedupOverTorch {
      line += String(format: "  pytorch %.0f ms (peak %.0f MiB)  ×%.2f", t, r.torchPeakRSSMiB ?? .nan, s)
      if let rounds = r.roundSpeedups, rounds.count > 1 {
        line += "  (rounds " + rounds.map { String(format: "×%.2f", $0) }.joined(separator: " ") + ")"
      }
    }
    print(line)
  }

  func benchTraining(threads: Int, anchor: TorchAnchor?) throws {
    var r = try TrainingBenchmark.run(model: trainModel, batch: trainBatch, steps: Swift.max(20, evals / 4))
    if let anchor, trainModel == "lenet" {
      let t = try anchor.run(script: TorchAnchor.Script.training, arguments: ["\(threads)", "\(trainBatch)"], threads: threads)
      r.torchImagesPerSecond = t["images_per_s"] as? Double
      r.speedupOverTorch = r.torchImagesPerSecond.map { r.imagesPerSecond / $0 }
    }
    if json { return try printJSONLine(r) }
    var line = String(
      format: "%@ training  1x28x28  batch %d  SGD  %.0f images/s  (%d steps, %d thread%@; products %.0f MFLOP a step at %.0f GFLOP/s)",
      r.model, r.batch, r.imagesPerSecond, r.steps, r.threads, r.threads == 1 ? "" : "s", r.productMFLOPPerStep,
      r.productMFLOPPerStep * r.imagesPerSecond / Double(r.batch) / 1000)
    if let t = r.torchImagesPerSecond, let s = r.speedupOverTorch {
      line += String(format: "  pytorch %.0f images/s  ×%.1f", t, s)
    }
    print(line)
  }

  func benchAttack(threads: Int, anchor: TorchAnchor?) throws {
    let real = FileManager.default.fileExists(atPath: attackData)
    let dataset = try loadDataset(real ? attackData : "shapes")
    guard attackImage >= 0 && attackImage < dataset.count else {
      throw ValidationError("--attack-image must be below \(dataset.count)")
    }
    var r = try AttackBenchmark.run(dataset: dataset, source: real ? attackData : "shapes", index: attackImage)
    if let anchor, real {
      let t = try anchor.run(
        script: TorchAnchor.Script.attack,
        arguments: [
          "--image-file", URL(fileURLWithPath: attackData).standardizedFileURL.path, "--index", "\(attackImage)", "--classes", "100",
          "--threads", "\(threads)",
        ], threads: threads)
      r.torchWallSeconds = t["wall_s"] as? Double
      r.torchEvaluations = t["closure_evals"] as? Int
      r.torchPSNR = t["psnr"] as? Double
      r.speedupOverTorch = r.torchWallSeconds.map { $0 / r.wallSeconds }
    }
    if json {
      try printJSONLine(r)
    } else {
      var line = String(
        format: "DLG attack  lenet 3x32x32  %@ image %d  %d classes  %d steps  %.2f s  (%d evals, %.3f ms/eval, PSNR %.1f dB)",
        real ? "cifar-100" : "shapes", r.index, r.classes, r.iterations, r.wallSeconds, r.evaluations, r.msPerEval, r.psnr)
      if let t = r.torchWallSeconds, let s = r.speedupOverTorch {
        line += String(format: "  pytorch %.2f s (%d evals, PSNR %.1f dB)  ×%.1f", t, r.torchEvaluations ?? 0, r.torchPSNR ?? .nan, s)
      }
      print(line)
    }
  }
}

struct Version: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print FedSim's version and those of its native libraries.")

  func run() {
    print("FedSim: \(FedSimVersion.description)")
    print("OpenBLAS: \(NativeLibraries.openBLAS)")
    print("ZeroMQ: \(NativeLibraries.zeroMQ)")
  }
}

struct DataCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "data", abstract: "Inspect and fetch datasets.", subcommands: [Info.self, Preview.self, Fetch.self])

  struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print the format, count, image shape and class balance of a dataset file or folder.",
      discussion: "Example:\n  fedsim data info ../shared/data/cifar-10/test_batch.bin")

    @Argument(help: "An IDX images file, a CIFAR .bin file, a folder holding one, or 'shapes'.", completion: .file())
    var path: String
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
      let dataset = try loadDataset(path)
      let summary = DatasetSummary(dataset)
      if json {
        try printJSONLine(summary)
      } else {
        print(summary.text(classNames: dataset.classNames))
      }
    }
  }
}

extension DataCommand {
  struct Preview: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a PNG grid of a dataset's first images.",
      discussion: "Example:\n  fedsim data preview ../shared/data/mnist/t10k-images-idx3-ubyte.gz --out mnist.png")

    @Argument(help: "An IDX images file, a CIFAR .bin file, a folder holding one, or 'shapes'.", completion: .file())
    var path: String
    @Option(help: "How many images.") var count = 40
    @Option(help: "Images per row (at most).") var columns = 10
    @Option(help: "Each pixel drawn as SCALE×SCALE.") var scale = 2
    @Option(help: "The PNG to write.") var out = "preview.png"

    func validate() throws {
      guard count >= 1 else { throw ValidationError("--count must be at least 1") }
      guard (1...100).contains(columns) else { throw ValidationError("--columns must be 1 to 100") }
      guard (1...16).contains(scale) else { throw ValidationError("--scale must be 1 to 16") }
    }

    func run() throws {
      let dataset = try loadDataset(path)
      let shown = min(count, dataset.count)
      // No more columns than images: one image is a one-tile picture, not a mostly white row.
      var grid = ImageGrid(
        channels: dataset.channels, height: dataset.height, width: dataset.width, columns: min(columns, shown), scale: scale)
      for i in 0..<shown {
        grid.append(Array(dataset.pixels[(i * dataset.imageSize)..<((i + 1) * dataset.imageSize)]))
      }
      do { try Data(grid.png()).write(to: URL(fileURLWithPath: out), options: .atomic) } catch {
        throw fail("\(out): cannot write: \(error.localizedDescription)")
      }
      print("wrote \(out): \(grid.tiles.count) images; labels \(dataset.labels.prefix(grid.tiles.count).map { dataset.classNames[$0] }.joined(separator: ", "))")
    }
  }
}

/// Reads a dataset for a command, or exits with the error naming the file.
func loadDataset(_ path: String) throws -> ImageDataset {
  if path == "shapes" { return .shapes(count: 1000) }
  do { return try .load(path) } catch { throw fail("\(error)") }
}

/// The folder of this executable, where its sibling processes (fed-server, …) are.
func binariesFolder() -> String {
  (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).resolvingSymlinksInPath().deletingLastPathComponent().path
}

/// Prints `message` to standard error and gives the exit code to throw.
func fail(_ message: String) -> ExitCode {
  FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
  return ExitCode(1)
}

struct Models: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the model zoo with options and parameter counts.", discussion: "Example:\n  fedsim models --classes 100")

  @Flag(help: "Print one JSON object per model.") var json = false
  @Option(help: "Classes for the parameter counts.") var classes = 10

  struct Row: Codable {
    var name: String, summary: String, activation: String, imageSize: Int, options: String, parameters: Int
    enum CodingKeys: String, CodingKey {
      case name, summary, activation, options, parameters
      case imageSize = "image_size"
    }
  }

  func run() throws {
    for entry in ModelZoo.entries {
      var gen = SeededGenerator(seed: 0)
      let spec = ModelSpec(name: entry.name, imageSize: entry.defaultImageSize, classes: classes)
      let count = try ModelZoo.make(spec, generator: &gen).parameterCount
      let row = Row(
        name: entry.name, summary: entry.summary, activation: entry.defaultActivation.rawValue,
        imageSize: entry.defaultImageSize, options: entry.options, parameters: count)
      if json {
        try printJSONLine(row)
      } else {
        let pad = { (s: String, n: Int) in s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
        print("\(pad(entry.name, 13)) \(pad(String(count), 9)) params  \(pad(entry.defaultActivation.rawValue, 10)) \(entry.defaultImageSize)px  \(entry.summary); \(entry.options)")
      }
    }
  }
}

extension DataCommand {
  struct Fetch: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Download a dataset from its publisher and check it against the published MD5.",
      discussion: "Datasets: \(DatasetSource.all.map(\.name).joined(separator: ", ")).\n\nExample:\n  fedsim data fetch cifar-10 --to data")

    @Argument(help: "The dataset.") var name: String
    @Option(help: "The folder to write into.") var to: String
    @Option(help: "train, test or all.") var split = "all"
    @Option(help: "A base URL to fetch from instead of the publisher's (file names are appended).") var mirror: String?

    func run() throws {
      guard ["train", "test", "all"].contains(split) else { throw ValidationError("--split must be train, test or all") }
      do {
        let files = try DatasetFetcher.fetch(name, split: split, mirror: mirror, to: to) { print($0) }
        print("wrote \(files.count) file\(files.count == 1 ? "" : "s") to \(to)")
      } catch { throw fail("\(error)") }
    }
  }
}

/// Prints `value` as one line of JSON with sorted keys.
func printJSONLine<T: Encodable>(_ value: T) throws {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys]
  print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// The command name nearest to a mistyped one, by edit distance (at most 2, or a prefix).
enum CommandSuggestion {
  static func nearest(_ typed: String, in names: [String]) -> String? {
    if let prefixed = names.first(where: { $0.hasPrefix(typed) && typed.count >= 2 }) { return prefixed }
    let scored = names.map { ($0, distance(Array(typed), Array($0))) }.filter { $0.1 <= 2 }
    return scored.min { $0.1 < $1.1 }?.0
  }

  static func distance(_ a: [Character], _ b: [Character]) -> Int {
    var row = Array(0...b.count)
    for i in 1...Swift.max(1, a.count) where !a.isEmpty {
      var previous = row[0]
      row[0] = i
      for j in stride(from: 1, through: b.count, by: 1) {
        let current = row[j]
        row[j] = Swift.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
        previous = current
      }
    }
    return a.isEmpty ? b.count : row[b.count]
  }
}
