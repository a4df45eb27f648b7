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

struct Version: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print FedSim's version and those of its native libraries.")

  func run() {
    print("FedSim: \(FedSimVersion.description)")
    print("OpenBLAS: \(NativeLibraries.openBLAS); kernels: \(NativeLibraries.openBLASKernels)")
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
      do { try FileOutput.write(Data(grid.png()), to: out) } catch { throw fail("\(out): cannot write: \(error.reason)") }
      let labels = dataset.labels.prefix(grid.tiles.count).map { dataset.classNames[$0] }.joined(separator: ", ")
      reportWritten("wrote \(out): \(grid.tiles.count) images; labels \(labels)", to: out)
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

/// Prints what a command wrote to `out`: on standard output, or on standard error when `out` is
/// standard output itself (`--out /dev/stdout`), where the line would follow the file's bytes.
func reportWritten(_ line: String, to out: String) {
  var (file, stdout) = (stat(), stat())
  if stat(out, &file) == 0, fstat(STDOUT_FILENO, &stdout) == 0, file.st_dev == stdout.st_dev, file.st_ino == stdout.st_ino {
    FileHandle.standardError.write(Data((line + "\n").utf8))
  } else {
    print(line)
  }
}

/// Prints `message` to standard error as a warning: the command goes on.
func warn(_ message: String) {
  FileHandle.standardError.write(Data(("warning: " + UntrustedText.printable(message: message) + "\n").utf8))
}

/// `path` when it is a folder (a run's or a point's), or exits saying what it is instead.
func existingFolder(_ path: String) throws -> String {
  var isDirectory: ObjCBool = false
  guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw fail("\(path): no such folder") }
  guard isDirectory.boolValue else { throw fail("\(path) is not a folder") }
  return path
}

/// Prints `message` to standard error and gives the exit code to throw.
func fail(_ message: String) -> ExitCode {
  FileHandle.standardError.write(Data(("error: " + UntrustedText.printable(message: message) + "\n").utf8))
  return ExitCode(1)
}

struct Models: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the model zoo with options and parameter counts.", discussion: "Example:\n  fedsim models --classes 100")

  @Flag(help: "Print one JSON object per model.") var json = false
  @Option(help: "Classes for the parameter counts.") var classes = 10

  func validate() throws {
    if !(2...ScenarioLimits.classes).contains(classes) {
      throw ValidationError("--classes must be 2 to \(ScenarioLimits.classes), as a scenario's model")
    }
  }

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
