import ArgumentParser
import FedSimCore
import FedSimKit
import Foundation

/// `fedsim prepare`: a point's folder for processes started by hand, each where it should run
/// (other hosts, network namespaces, a scheduler's nodes), and the command of each.
struct Prepare: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Prepare one point for processes started by hand on other hosts, and print each role's command.",
    discussion: """
      Writes the point's folder (scenario.json, adversary.json and, under CURVE, keys/) and prints the \
      command of the server, each client and the adversary. Every host must read and write that folder \
      (a shared file system, or copies gathered back before scoring). When they have all finished, \
      `fedsim score DIR` scores the point. Set federation.host to the server's address on the network \
      the others reach it by, and federation.port to a fixed port, so the commands can name it.

      Example:
        fedsim prepare scenarios/demo.yaml --out /shared/point \\
          --set federation.host=10.0.0.1 --set federation.port=7700
      """)

  @Argument(help: "The scenario YAML file.", completion: .file(extensions: ["yaml", "yml"])) var scenario: String
  @Option(help: "The point's folder (must not exist, or be empty).", completion: .directory) var out: String
  @Option(name: .customLong("set"), help: "Override a scenario key: KEY=VALUE (repeatable).") var sets: [String] = []
  @Option(help: "Which point of a sweep, from 1.") var point = 1

  func run() throws {
    let folder = RunFolder(out)
    do {
      let file = try ScenarioFile.load(path: scenario).overriding(sets, source: scenario)
      let design = try file.design(source: scenario)
      guard design.points.indices.contains(point - 1) else { throw fail("--point must be 1 to \(design.points.count)") }
      if let inside = try? FileManager.default.contentsOfDirectory(atPath: out), !inside.isEmpty {
        throw fail("\(out) exists and is not empty: choose another --out")
      }
      let s = design.points[point - 1].scenario
      try Launcher.prepare(s, in: folder)
      let bin = Self.binaries
      let where_ = s.federation.fixedEndpoints
      print("prepared \(out) (\(design.points[point - 1].label)); start each where it should run, the server first:")
      print("  server:     \(bin)/fed-server \(out)")
      for c in 0..<s.federation.clients { print("  client \(c):   \(bin)/fed-client \(out) \(c)" + (where_.map { " " + $0.clients } ?? "")) }
      if s.attack != nil { print("  adversary:  \(bin)/fed-adversary \(out)" + (where_.map { " " + $0.tap } ?? "")) }
      if where_ == nil { print("(federation.port is 0: the others read the server's ports from \(out)/endpoints.json)") }
      print("then: \(bin)/fedsim score \(out)")
    } catch let e as ExitCode { throw e } catch { throw fail("\(error)") }
  }

  static var binaries: String { binariesFolder() }
}

/// `fedsim score`: a point's leakage, after its processes have finished wherever they ran.
struct Score: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Score a point whose processes were started by hand: pair reconstructions with the truth, write summary.json.",
    discussion: "Example:\n  fedsim score /shared/point")

  @Argument(help: "The point's folder (from fedsim prepare).", completion: .directory) var pointDirectory: String

  func run() throws {
    let summary: RunSummary
    let folder = RunFolder(try existingFolder(pointDirectory))
    do { summary = try Launcher.score(folder) } catch { throw fail("\(error)") }
    for r in summary.rows {
      print(String(format: "round %d, client %d: PSNR %.2f dB, SSIM %.4f, MSE %.3g, labels %.0f%%%@",
        r.round, r.client, r.psnr, r.ssim, r.mse, 100 * r.labelAccuracy, r.success ? ", recovered" : ""))
    }
    if let a = summary.testAccuracy { print(String(format: "test accuracy %.1f%%", 100 * a)) }
    print("wrote \(pointDirectory)/summary.json")
    if let first = summary.problems.first { throw fail(first) }
  }
}
