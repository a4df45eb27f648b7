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

  /// The anchor scripts the benchmarks run.
  public enum Script {
    public static let dlgEvaluations = "torch_dlg_evals.py"
    public static let training = "torch_train_throughput.py"
    public static let attack = "torch_dlg.py"
    public static let bigModels = "torch_bigmodel_evals.py"
  }

  /// Checks, before any benchmark runs, that the Python is there and imports torch and that
  /// each of `scripts` is in the anchors folder, naming what is missing.
  public func check(scripts: [String]) throws(AnchorError) {
    guard FileManager.default.isExecutableFile(atPath: python) else {
      throw AnchorError(message: "--torch \(python): no executable there (a Python with torch, e.g. ../torch-venv/bin/python)")
    }
    for script in scripts where !FileManager.default.fileExists(atPath: anchorsDirectory + "/" + script) {
      throw AnchorError(
        message: "--anchors \(anchorsDirectory): no \(script) there; the default, ../shared/anchors, is relative to the working directory: run from the repository, or pass the anchors folder")
    }
    guard imports("torch") else {
      throw AnchorError(message: "--torch \(python): it cannot import torch (a venv with torch, torchvision and numpy: see ../shared/anchors/README.md)")
    }
  }

  /// Whether `python -c "import module"` succeeds.
  private func imports(_ module: String) -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = ["-c", "import \(module)"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationReason == .exit && process.terminationStatus == 0
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
