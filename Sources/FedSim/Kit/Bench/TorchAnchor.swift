import FedSimCore
import Foundation

/// Runs one of the PyTorch anchor scripts (`../shared/anchors`) with a given Python, so FedSim's
/// figure and PyTorch's are measured side by side in one run.
public struct TorchAnchor: Sendable {
  public var python: String
  public var anchorsDirectory: String

  public init(python: String, anchorsDirectory: String) {
    // Absolute, since the script runs with the anchors folder as its working directory.
    self.python = URL(fileURLWithPath: python).standardizedFileURL.path
    self.anchorsDirectory = URL(fileURLWithPath: anchorsDirectory).standardizedFileURL.path
  }

  /// The JSON object the script printed last.
  public func run(script: String, arguments: [String], threads: Int) throws -> [String: Any] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [anchorsDirectory + "/" + script] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: anchorsDirectory)
    var env = ProcessInfo.processInfo.environment
    env["OMP_NUM_THREADS"] = String(threads)
    process.environment = env
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.standardError
    do { try process.run() } catch {
      throw AnchorError(message: "cannot start \(python): \(error.localizedDescription)")
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw AnchorError(message: "\(script) exited with status \(process.terminationStatus)")
    }
    let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
    guard let last = lines.last,
      let object = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
    else { throw AnchorError(message: "\(script) printed no JSON line") }
    return object
  }
}

public struct AnchorError: Error, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}
