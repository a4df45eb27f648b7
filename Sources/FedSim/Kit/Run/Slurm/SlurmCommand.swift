import FedSimCore
import Foundation

/// Runs one of Slurm's commands (found on PATH) and returns what it printed.
enum SlurmCommand {
  struct Output: Sendable {
    var status: Int32
    var out: String
    var err: String
    var succeeded: Bool { status == 0 }
    /// What went wrong, in the command's own words.
    var complaint: String {
      let text = (err.isEmpty ? out : err).trimmingCharacters(in: .whitespacesAndNewlines)
      return text.isEmpty ? "exit status \(status)" : text
    }
  }

  static func run(_ name: String, _ arguments: [String]) throws(FederationError) -> Output {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [name] + arguments
    let (out, err) = (Pipe(), Pipe())
    (p.standardOutput, p.standardError, p.standardInput) = (out, err, FileHandle.nullDevice)
    do { try p.run() } catch { throw .failed("cannot run \(name): \(error.localizedDescription)") }
    // Both pipes read to their end before waiting, so a long output never blocks the command.
    let errData = Locked(Data())
    let read = DispatchSemaphore(value: 0)
    Thread {
      errData.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() }
      read.signal()
    }.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    read.wait()
    p.waitUntilExit()
    let output = Output(
      status: p.terminationStatus, out: String(decoding: outData, as: UTF8.self), err: String(decoding: errData.withLock { $0 }, as: UTF8.self))
    if output.status == 127 {
      throw .failed("\(name) is not on PATH: run on a Slurm login node (or install Debian's slurm-wlm)")
    }
    return output
  }
}
