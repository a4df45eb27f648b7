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

  /// Runs the script under a few lines of Python that, once it ends, add the interpreter's peak
  /// resident memory (Linux's VmHWM, which starts afresh at exec) as `anchor_peak_rss_mib`.
  static let peakWrapper = """
    import json, runpy, sys
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
    peak = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
    print(json.dumps({"anchor_peak_rss_mib": int(peak[0].split()[1]) / 1024 if peak else None}))
    """

  /// The JSON objects the script printed, merged, with `anchor_peak_rss_mib` beside them.
  public func run(script: String, arguments: [String], threads: Int) throws -> [String: Any] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = ["-c", Self.peakWrapper, anchorsDirectory + "/" + script] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: anchorsDirectory)
    var env = ProcessInfo.processInfo.environment
    env["OMP_NUM_THREADS"] = String(threads)
    process.environment = env
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.standardError
    do { try process.run() } catch {
      throw AnchorError(message: "cannot start \(python) on \(anchorsDirectory)/\(script): \(error.localizedDescription)")
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw AnchorError(message: "\(script) exited with status \(process.terminationStatus)")
    }
    let objects = String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
    guard objects.contains(where: { $0["anchor_peak_rss_mib"] == nil }) else { throw AnchorError(message: "\(script) printed no JSON line") }
    return objects.reduce(into: [:]) { merged, object in merged.merge(object) { $1 } }
  }
}

public struct AnchorError: Error, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}
