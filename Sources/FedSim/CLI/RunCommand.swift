import ArgumentParser
import FedSimCore
import Foundation

struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a federated-learning scenario: server, clients and adversary as separate processes.",
    discussion: "Writes the run folder: scenario.json, events/, truth/, reconstructions/, summary.csv, summary.json, report.md.")

  @Argument(help: "The scenario YAML file.") var scenario: String
  @Option(help: "The run folder (default: runs/NAME-TIME).") var out: String?
  @Option(name: .customLong("set"), help: "Override a scenario key: KEY=VALUE (repeatable).") var sets: [String] = []

  func run() throws {
    let loaded: Scenario
    do { loaded = try Scenario.load(path: scenario).overriding(sets, source: scenario) } catch { throw fail("\(error)") }
    let name = loaded.resolved().name!
    let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
    let folder = RunFolder(out ?? "runs/\(name)-\(stamp)")
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    let launcher: Launcher
    do { launcher = try Launcher(scenario: loaded, folder: folder, binaries: Bundle.main.executableURL?.deletingLastPathComponent().path ?? binaries) } catch {
      throw fail("cannot create \(folder.path): \(error)")
    }
    signal(SIGINT, SIG_IGN)
    let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    interrupt.setEventHandler {
      FileHandle.standardError.write(Data("\ninterrupted: stopping every process\n".utf8))
      launcher.stopAll()
      Foundation.exit(130)
    }
    interrupt.resume()
    let summary: RunSummary
    do { summary = try launcher.run { print($0) } } catch { throw fail("\(error)") }
    for r in summary.rows {
      print(String(format: "round %d client %d  %@  %@  PSNR %.2f dB  SSIM %.4f  labels %.0f%%  %@", r.round, r.client, r.method, r.defenses, r.psnr, r.ssim, 100 * r.labelAccuracy, r.success ? "recovered" : "not recovered"))
    }
    if let a = summary.testAccuracy { print(String(format: "test accuracy %.1f%%", 100 * a)) }
    print("wrote \(folder.path)/summary.csv, summary.json, report.md")
  }
}
