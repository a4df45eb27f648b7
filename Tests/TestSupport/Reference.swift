import Foundation
import Tensors

/// Where the shared PyTorch golden files and datasets live, and whether tests must have them.
public enum SharedData {
  /// The repository root (this file is Tests/TestSupport/Reference.swift).
  public static let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

  /// `$FEDSIM_REFERENCE_DIR`, else `../shared/reference` beside the repository.
  public static var referenceDirectory: String {
    ProcessInfo.processInfo.environment["FEDSIM_REFERENCE_DIR"]
      ?? repositoryRoot + "/../shared/reference"
  }

  /// `$FEDSIM_DATA_DIR`, else `../shared/data` beside the repository.
  public static var dataDirectory: String {
    ProcessInfo.processInfo.environment["FEDSIM_DATA_DIR"] ?? repositoryRoot + "/../shared/data"
  }

  /// Whether tests that read the shared datasets should run (always under CI).
  public static var dataTestsEnabled: Bool {
    isCI || FileManager.default.fileExists(atPath: dataDirectory + "/README.md")
  }

  /// True under CI (`CI=true`), where a missing shared folder is a failure, not a skip.
  public static var isCI: Bool {
    ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true"
  }

  /// The golden `*.safetensors` files, sorted; empty when the folder is missing.
  public static var referenceFiles: [String] {
    let dir = referenceDirectory
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    return names.filter { $0.hasSuffix(".safetensors") }.sorted().map { dir + "/" + $0 }
  }

  /// Whether tests that need the reference files should run: always under CI (they then fail
  /// when the files are missing), elsewhere only when the files are there.
  public static var referenceTestsEnabled: Bool { isCI || !referenceFiles.isEmpty }
}

/// Norm-wise relative error `‖a − b‖ / ‖b‖` (absolute when `b` is zero), in Double.
public func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
  precondition(a.shape == b.shape, "comparing \(a.shape) with \(b.shape)")
  var diff = 0.0
  var norm = 0.0
  for (x, y) in zip(a.scalars, b.scalars) {
    diff += Double(x - y) * Double(x - y)
    norm += Double(y) * Double(y)
  }
  return norm == 0 ? diff.squareRoot() : (diff / norm).squareRoot()
}
