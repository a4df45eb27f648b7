import FedData
import FedSimKit
import Adversary
import ArgumentParser
import FedSimCore
import Foundation
import Tensors

struct Demo: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Classroom demo: a real federated round whose private picture emerges from the shared gradient, live in the terminal.",
    discussion: """
      Starts fed-server, one victim fed-client and fed-adversary, and draws the client's picture \
      beside the adversary's reconstruction as it emerges (24-bit colour half blocks; plain \
      progress lines when output is not a colour terminal). With --defense it then runs the same \
      attack against the defended client and shows both results side by side.

      Examples:
        fedsim demo
        fedsim demo --defense gaussian_noise=0.01
        fedsim demo --image lion.jpg --method idlg
        fedsim demo --model resnet18 --size 224 --normalize imagenet --iterations 20
      """)

  @Option(
    help: "A PNG or JPEG picture to be the client's private image (default: a built-in shape).",
    completion: .file(extensions: ImageFile.extensions))
  var image: String?
  @Option(help: "dlg, idlg, wdlg or ig.") var method: AttackMethod = .dlg
  @Option(help: "A real dataset image as the private image: a dataset file or folder (with --index).", completion: .file())
  var data: String?
  @Option(help: "Which image of --data (from 0).") var index = 0
  @Option(help: "A defense as NAME=VALUE, e.g. gaussian_noise=0.01, prune=0.9, clip=0.1, quantize=int8 (repeatable: each its own column, up to 4).")
  var defense: [String] = []
  @Option(help: "Attack iterations (default: the method's).") var iterations: Int?
  @Option(help: "A model of the zoo (default: the DLG LeNet).") var model: String?
  @Option(help: "The model's input size: the picture resized and centre-cropped to it (default: 32).") var size: Int?
  @Option(help: "The model's input normalisation: none, imagenet, or MEAN,…/STD,….") var normalize: String?
  @Option(help: "After each attack, replay its recorded steps in slow motion over this many seconds (0: no replay).")
  var replay: Double = 0
  @Flag(help: "Wait for Enter between the undefended and each defended part (on a terminal).") var pause = false
  @Flag(help: "Big pictures: as large as the terminal allows, for a projector (default: at most 4× their size).")
  var big = false
  @Option(help: "The run folder (default: runs/demo-live-TIME).") var out: String?

  func validate() throws {
    if data != nil && image != nil { throw ValidationError("give --image or --data, not both") }
    if data == nil && index != 0 { throw ValidationError("--index needs --data") }
    // The scenario takes a path that is no picture's for a dataset: a folder would be read as one.
    if let image, !ImageFile.isImageName(image) {
      throw ValidationError("--image \(image): not a .png, .jpg or .jpeg picture (a dataset goes to --data)")
    }
    if defense.count > 4 { throw ValidationError("at most 4 --defense settings fit side by side") }
    if !(replay >= 0 && replay <= 600) { throw ValidationError("--replay takes 0 to 600 seconds") }
    for d in defense { _ = try Self.parse(d) }
  }

  func run() throws {
    let binaries = binariesFolder()
    let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
    let root = out ?? "runs/demo-live-\(stamp)"
    let (picture, subject, className) = try privateImage(root: root)
    if let subject { print("the client's private image: \(subject)") }
    var file = ScenarioFile()
    file.name = "demo-live"
    file.seed = 1
    file.dataset = ScenarioFile.DatasetSection()
    file.dataset?.path = picture ?? "shapes"
    file.dataset?.count = picture == nil ? 20 : nil
    file.dataset?.testFraction = 0
    file.federation = ScenarioFile.FederationSection()
    file.federation?.clients = 1
    file.federation?.deadline = 30
    if model != nil || size != nil || normalize != nil {
      var m = ScenarioFile.ModelSection()
      (m.name, m.size, m.normalize) = (model, size, normalize.map { ScenarioFile.NormalizeSetting($0) })
      if model == "inception_v3" { m.auxiliaryHead = false }
      file.model = m
    }
    file.attack = ScenarioFile.AttackSection()
    file.attack?.method = AttackKind(rawValue: method.rawValue)
    file.attack?.iterations = iterations
    file.attack?.restarts = 2
    var runs = [("no defense", file, root + "/no-defense")]
    for (k, d) in defense.enumerated() {
      var defended = file
      defended.defenses = [try Self.parse(d)]
      runs.append((d, defended, root + (k == 0 ? "/defended" : "/defended-\(k + 1)")))
    }
    // Every part is checked before the first runs: a bad --defense value is an error at once, not
    // after the undefended attack.
    let designs = try runs.map { run in
      do { return try run.1.design(source: "fedsim demo") } catch { throw fail("\(error)") }
    }
    var finals: [(String, Tensor, Double)] = []
    var truth: Tensor?
    for (n, (label, scenario, path)) in runs.enumerated() {
      let folder = RunFolder(path)
      let plan: RunPlan
      do { plan = try RunPlan(design: designs[n], file: scenario, folder: folder, binaries: binaries) } catch {
        throw fail("\(error)")
      }
      let live = Live(folder: plan.pointFolder(0, repeat: 0), label: label, method: method)
      live.largest = big ? 64 : 4
      let result = Background { try plan.run() }
      while !result.finished {
        live.draw()
        Thread.sleep(forTimeInterval: 0.15)
      }
      do { _ = try result.get() } catch { throw fail("\(error)") }
      let final = live.draw(final: true)
      live.replay(seconds: replay)
      if pause && isatty(0) == 1 && n + 1 < runs.count {
        print("press Enter for the next part (\(runs[n + 1].0))", terminator: "")
        _ = readLine()
      }
      if let f = final, let t = live.truth {
        finals.append((label, f.0, f.1))
        truth = t.sliced(alongAxis: 0, 0..<1).reshaped(to: Array(t.shape.dropFirst()))
      }
    }
    if finals.count >= 2, let truth {
      // Two caption lines: the name (cut to the picture's width if need be), then the figure.
      let captions = [className.map { "private image\n" + $0 } ?? "private image"] + finals.map { String(format: "%@\n%.1f dB", $0.0, $0.2) }
      if TerminalPicture.colourTerminal {
        // A clean screen for the payoff: a heading, the captions, the pictures, the last line.
        print("\u{1B}[2J\u{1B}[H" + TerminalPicture.clipped(
          "What the server reconstructs from each shared update (PSNR: 30 dB and up is recognisable)",
          columns: TerminalPicture.columns))
        let pictures = [truth] + finals.map(\.1)
        let width = TerminalPicture.fit(
          count: pictures.count, width: truth.shape[2], columns: TerminalPicture.columns, lines: TerminalPicture.rows - 5,
          largest: big ? 64 : 4)
        for line in TerminalPicture.lines(pictures, captions: captions, width: width) { print(line) }
      } else {
        print(captions.map { $0.replacingOccurrences(of: "\n", with: ": ") }.joined(separator: " | "))
      }
    }
    print("run folders under \(root): report.html in each")
  }

  /// The private image: `--image` as it is, or image `--index` of `--data` written as a PNG
  /// into the run folder; and what it shows ("image 7 of …, label 3: cat").
  func privateImage(root: String) throws -> (path: String?, subject: String?, className: String?) {
    guard let data else { return (image, nil, nil) }
    let dataset = try loadDataset(data)
    guard (0..<dataset.count).contains(index) else {
      throw fail("--index \(index): \(data) holds \(dataset.count) images (0 to \(dataset.count - 1))")
    }
    let size = dataset.imageSize
    let pixels = Array(dataset.pixels[(index * size)..<((index + 1) * size)])
    let png = PNG.encode(channelMajor: pixels, channels: dataset.channels, height: dataset.height, width: dataset.width)
    let path = root + "/private-image.png"
    do {
      try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
      try Data(png).write(to: URL(fileURLWithPath: path))
    } catch { throw fail("cannot write \(path): \(error.localizedDescription)") }
    let label = dataset.labels[index]
    let name = label < dataset.classNames.count ? dataset.classNames[label] : "class \(label)"
    return (path, "image \(index) of \(data), label \(label): \(name)", name)
  }

  /// `--defense NAME=VALUE` as a defense (any defense key; `quantize` takes fp16 or int8).
  static func parse(_ text: String) throws -> Defense {
    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
    guard parts.count == 2 else { throw ValidationError("--defense takes NAME=VALUE") }
    if parts[0] == "quantize", let q = Defense.Quantization(rawValue: parts[1]) { return .quantize(q) }
    guard let v = Float(parts[1]), let d = Defense.numeric(parts[0], v) else {
      throw ValidationError("--defense \(text): NAME is one of \(Defense.keys.joined(separator: ", ")) and VALUE a number (fp16 or int8 for quantize)")
    }
    return d
  }
}
