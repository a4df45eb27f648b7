import FedData
import Foundation
import TestSupport
import Testing

/// `fedsim` as people type it: alone, with --version, with a typo.
@Suite("The command line")
struct CommandLineTests {
  /// Runs the built `fedsim` with `arguments`; its status and everything it printed.
  func fedsim(_ arguments: [String], environment: [String: String] = [:], in folder: String? = nil) throws -> (Int32, String) {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binaries + "/fedsim")
    p.arguments = arguments
    if let folder { p.currentDirectoryURL = URL(fileURLWithPath: folder) }
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    (p.standardOutput, p.standardError) = (pipe, pipe)
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  @Test("fedsim alone prints help (it runs nothing)")
  func alone() throws {
    let (status, text) = try fedsim([])
    #expect(status == 0 && text.contains("USAGE: fedsim <subcommand>") && text.contains("run") && !text.contains("DLG LeNet, batch"), "\(text)")
  }

  @Test("--version names FedSim's version")
  func version() throws {
    let (status, text) = try fedsim(["--version"])
    #expect(status == 0 && text.hasPrefix("fedsim 0."), "\(text)")
  }

  @Test("a mistyped subcommand gets the nearest suggested; nonsense gets the parser's message")
  func suggestions() throws {
    for (typed, meant) in [("rn", "run"), ("bech", "bench"), ("repot", "report"), ("dem", "demo")] {
      let (status, text) = try fedsim([typed, "x.yaml"])
      #expect(status == 64 && text.contains("Did you mean '\(meant)'?"), "\(typed): \(text)")
    }
    let (status, text) = try fedsim(["zzzzzz"])
    #expect(status != 0 && !text.contains("Did you mean"), "\(text)")
  }

  @Test("--threads 0 or past four a core, and an unknown --big-model, are usage errors naming the source, before any work")
  func zeroThreads() throws {
    for command in ["bench", "attack"] {
      let (status, text) = try fedsim([command, "--threads", "0"])
      #expect(status == 64 && text.contains("--threads must be at least 1"), "\(command): \(text)")
    }
    // Past four threads a core, from the flag or the environment: refused at once (100000 used
    // to run on for minutes); a count that is no number is named, not read as 1.
    let cores = ProcessInfo.processInfo.activeProcessorCount
    for command in ["bench", "attack"] {
      let (status, text) = try fedsim([command, "--threads", "100000"])
      #expect(status == 64 && text.contains("--threads must be at most \(4 * cores)") && !text.contains("DLG objective"), "\(command): \(text)")
      let (envStatus, envText) = try fedsim([command], environment: ["OPENBLAS_NUM_THREADS": "\(4 * cores + 1)"])
      #expect(envStatus == 64 && envText.contains("OPENBLAS_NUM_THREADS must be at most"), "\(command): \(envText)")
      let (wordStatus, wordText) = try fedsim([command], environment: ["OPENBLAS_NUM_THREADS": "two"])
      #expect(wordStatus == 64 && wordText.contains("OPENBLAS_NUM_THREADS=two is not a whole number"), "\(command): \(wordText)")
    }
    let (roundsStatus, roundsText) = try fedsim(["bench", "--big-models", "--big-rounds", "0"])
    #expect(roundsStatus == 64 && roundsText.contains("--big-rounds must be at least 1"), "\(roundsText)")
    // An unknown big model is refused before any benchmark runs.
    let (status, text) = try fedsim(["bench", "--big-models", "--big-model", "vgg"])
    #expect(status == 64 && text.contains("--big-model is one of") && !text.contains("DLG objective"), "\(text)")
  }

  @Test("--torch with a missing anchors folder or Python, or a Python without torch, is a usage error naming it, before any work")
  func missingAnchors() throws {
    let folder = TemporaryPath.make("no-anchors")
    let (status, text) = try fedsim(["bench", "--no-dlg", "--no-training", "--no-attack", "--no-transfer", "--big-models", "--torch", "/bin/sh", "--anchors", folder])
    #expect(status == 64 && text.contains("no torch_bigmodel_evals.py there") && text.contains(folder) && !text.contains("DLG objective"), "\(text)")
    let (status2, text2) = try fedsim(["bench", "--torch", folder + "/python"])
    #expect(status2 == 64 && text2.contains("no executable there") && !text2.contains("DLG objective"), "\(text2)")
    // Scripts there, but a "Python" that cannot import torch.
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    FileManager.default.createFile(atPath: folder + "/torch_bigmodel_evals.py", contents: Data())
    let (status3, text3) = try fedsim(["bench", "--no-dlg", "--no-training", "--no-attack", "--no-transfer", "--big-models", "--torch", "/bin/sh", "--anchors", folder])
    #expect(status3 == 64 && text3.contains("cannot import torch") && !text3.contains("DLG objective"), "\(text3)")
  }

  @Test(
    "out-of-range numbers for attack, record and bench are usage errors naming the option, before any work",
    arguments: [
      (["attack", "--threshold", "nan"], "--threshold must be a number of dB"),
      (["attack", "--tv", "nan"], "--tv must be a number ≥ 0"),
      (["attack", "--learning-rate=-1"], "--learning-rate must be a positive number"),
      (["attack", "--iterations", "999999999999"], "--iterations must be 1 to 1000000"),
      (["attack", "--restarts", "1000"], "--restarts must be 1 to 100"),
      (["record", "--data", "shapes", "--out", "/nonexistent/u.safetensors", "--classes", "100000000"], "--classes must be 2 to 100000"),
      (["record", "--data", "shapes", "--out", "/nonexistent/u.safetensors", "--classes", "1"], "--classes must be 2 to 100000"),
      (["bench", "--no-dlg", "--no-attack", "--no-transfer", "--train-batch", "0"], "--train-batch must be 1 to 4096"),
      (["models", "--classes", "100000000"], "--classes must be 2 to 100000"),
      (["models", "--classes=-5"], "--classes must be 2 to 100000"),
    ])
  func outOfRangeNumbers(_ c: ([String], String)) throws {
    let (status, text) = try fedsim(c.0 + (c.0[0] == "attack" ? ["--out", "/nonexistent/attack-out"] : []))
    #expect(status == 64 && text.contains(c.1) && !text.contains("attacking") && !text.contains("images/s"), "\(c.0): \(text)")
  }

  @Test("attack checks that --out takes files before it attacks")
  func attackChecksOutFirst() throws {
    let file = TemporaryPath.make("attack-out-is-a-file")
    FileManager.default.createFile(atPath: file, contents: Data())
    defer { try? FileManager.default.removeItem(atPath: file) }
    // R-GAP prints each layer's rank once it has solved: none may show before the error.
    let (status, text) = try fedsim(["attack", "--method", "rgap", "--out", file])
    #expect(status == 1 && text.contains("cannot write the results to \(file)") && !text.contains("rank"), "\(text)")
  }

  @Test(
    "a device, a folder or a file where the other is wanted is an error saying which, not Foundation's 'permission' or 'error 256'",
    arguments: [
      (["attack", "--update", "/dev/zero", "--out", "/nonexistent/a"], "/dev/zero: cannot read: it is not a regular file (a device or a pipe?)"),
      (["attack", "--update", "/", "--out", "/nonexistent/a"], "/: cannot read: it is a folder"),
      (["attack", "--update", "/nonexistent.safetensors", "--out", "/nonexistent/a"], "/nonexistent.safetensors: cannot read: No such file or directory"),
      (["data", "info", "/dev/zero"], "/dev/zero: cannot read: it is not a regular file (a device or a pipe?)"),
      (["report", "/dev/null"], "/dev/null is not a folder"),
      (["score", "/dev/null"], "/dev/null is not a folder"),
      (["run", "--resume", "/nonexistent-run"], "/nonexistent-run: no such folder"),
      (["demo", "--image", "/tmp"], "--image /tmp: not a .png, .jpg or .jpeg picture"),
    ])
  func wrongKindOfPath(_ c: ([String], String)) throws {
    let (status, text) = try fedsim(c.0)
    #expect(status != 0 && text.contains(c.1), "\(c.0): \(text)")
  }

  @Test("--out /dev/stdout: the file alone on standard output, the 'wrote' line on standard error")
  func outputToStandardOutput() throws {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binaries + "/fedsim")
    p.arguments = ["data", "preview", "shapes", "--count", "2", "--out", "/dev/stdout"]
    let (out, err) = (Pipe(), Pipe())
    (p.standardOutput, p.standardError) = (out, err)
    try p.run()
    let png = out.fileHandleForReading.readDataToEndOfFile()
    let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    #expect(p.terminationStatus == 0 && said.hasPrefix("wrote /dev/stdout: 2 images"), "\(said)")
    // A whole PNG and nothing after it: its IEND chunk (with its CRC) ends the stream.
    #expect(Array(png.prefix(4)) == [0x89, 0x50, 0x4E, 0x47] && Array(png.suffix(8)) == [0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])
  }

  @Test("attack never writes over an earlier attack's results; by default each attack has a folder of its own")
  func attackKeepsEarlierResults() throws {
    let dir = TemporaryPath.make("attack-twice")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let (first, text) = try fedsim(["attack", "--iterations", "2", "--restarts", "1", "--out", dir + "/a"])
    let metrics = try Data(contentsOf: URL(fileURLWithPath: dir + "/a/metrics.json"))
    #expect(first == 0, "\(text)")
    let (again, refusal) = try fedsim(["attack", "--iterations", "3", "--restarts", "1", "--out", dir + "/a"])
    #expect(again == 1 && refusal.contains("\(dir)/a already holds an attack's results (metrics.json)"), "\(refusal)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/a/metrics.json")) == metrics)
    // Without --out: attacks/built-in-TIME under the working folder.
    let (status, named) = try fedsim(["attack", "--iterations", "2", "--restarts", "1"], in: dir)
    let made = try FileManager.default.contentsOfDirectory(atPath: dir + "/attacks")
    #expect(status == 0 && made.count == 1 && made[0].hasPrefix("built-in-") && named.contains("attacks/\(made[0])"), "\(named)")
  }

  /// The debug build this runs kept the signal handlers alive where the optimised one released
  /// them: tools/serve-signal-test.sh checks the release build (in CI).
  @Test("run --serve: with the run over and the live view up, SIGTERM still ends the launcher")
  func liveViewEndsOnSigterm() throws {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let dir = TemporaryPath.make("serve-sigterm")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let yaml = dir + "/s.yaml"
    try "name: serve\ndataset: {path: shapes, count: 20}\nfederation: {clients: 1, rounds: 1}\nattack: {method: idlg, iterations: 5}\n"
      .write(toFile: yaml, atomically: true, encoding: .utf8)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binaries + "/fedsim")
    p.arguments = ["run", yaml, "--serve", "0", "--out", dir + "/run"]
    let pipe = Pipe()
    (p.standardOutput, p.standardError) = (pipe, FileHandle.nullDevice)
    try p.run()
    defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
    // Its first line, written at once, names the port.
    var first = ""
    while !first.contains("\n"), let byte = try pipe.fileHandleForReading.read(upToCount: 1), !byte.isEmpty {
      first += String(decoding: byte, as: UTF8.self)
    }
    let port = try #require(first.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) }, "\(first)")
    // Over once the view says so (the launcher marks itself finished right after); bounded.
    var over = false
    for _ in 0..<600 where !over {
      over = LiveServerTests.get(port, "/state.json").1.contains("\"finished\":true")
      if !over { usleep(200_000) }
    }
    try #require(over, "the run did not finish")
    usleep(500_000)
    p.terminate()
    for _ in 0..<100 where p.isRunning { usleep(200_000) }
    #expect(!p.isRunning, "the launcher ignored SIGTERM once the run was over")
  }

  @Test("demo checks every part before the first: a bad --defense value is an error before any attack runs")
  func demoChecksFirst() throws {
    let folder = TemporaryPath.make("demo-bad-defense")
    let (status, text) = try fedsim(["demo", "--defense", "gaussian_noise=-1", "--out", folder])
    #expect(status == 1 && text.contains("'defenses[0].gaussian_noise' must be a number ≥ 0"), "\(text)")
    #expect(!text.contains("iteration") && !FileManager.default.fileExists(atPath: folder), "\(text)")
  }

  @Test("the committed manual page covers what the parser offers (tools/make-manual.sh regenerates it)")
  func manual() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let man = try String(contentsOf: root.appendingPathComponent("docs/man/fedsim.1"), encoding: .utf8)
    let (_, help) = try fedsim(["--help"])
    let subcommands = help.components(separatedBy: "SUBCOMMANDS:").last?.split(separator: "\n").compactMap { line in
      line.split(separator: " ").first.map(String.init)
    }.filter { !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0 == "-" } && $0 != "See" } ?? []
    #expect(subcommands.count >= 10, "\(help)")
    for name in subcommands { #expect(man.contains(".It Em \(name)") || man.contains(name), "the manual lacks \(name)") }
    let (_, runHelp) = try fedsim(["run", "--help"])
    for option in ["--executor", "--resume", "--jobs", "--spread-clients", "--sbatch-arg"] {
      #expect(runHelp.contains(option) && man.contains(option.dropFirst(2)), "the manual lacks run \(option): regenerate it")
    }
  }

  @Test("data preview of one image is that image alone, scaled; of 12 a 10-wide grid; --count 0 a usage error")
  func preview() throws {
    let out = TemporaryPath.make("fedsim-preview", suffix: ".png")
    defer { try? FileManager.default.removeItem(atPath: out) }
    for (count, size) in [(1, (66, 66)), (12, (651, 131))] {
      let (status, text) = try fedsim(["data", "preview", "shapes", "--count", "\(count)", "--out", out])
      let image = try PNG.read(out)
      #expect(status == 0 && (image.width, image.height) == size, "\(count): \(image.width)×\(image.height), \(text)")
    }
    let (status, _) = try fedsim(["data", "preview", "shapes", "--count", "0", "--out", out])
    #expect(status == 64)
  }
}
