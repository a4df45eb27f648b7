import Foundation
import Testing

/// `fedsim` as people type it: alone, with --version, with a typo.
@Suite("The command line")
struct CommandLineTests {
  /// Runs the built `fedsim` with `arguments`; its status and everything it printed.
  func fedsim(_ arguments: [String]) throws -> (Int32, String) {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binaries + "/fedsim")
    p.arguments = arguments
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
}
