import Foundation
import Synchronization

/// Paths under the system's temporary folder for a test's files and folders, removed when the
/// test process exits: a full run made some thirty run folders, data files and pictures, which
/// were left behind at every run. `FEDSIM_KEEP_TEST_FILES=1` keeps them, to look at after a
/// failure.
public enum TemporaryPath {
  private static let made = Mutex<[String]>([])
  private static let removedAtExit: Void = {
    atexit { TemporaryPath.removeAll() }
  }()

  /// A new path, `prefix-UUID` then `suffix`, in the temporary folder; nothing is created.
  public static func make(_ prefix: String, suffix: String = "") -> String {
    _ = removedAtExit
    let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)\(suffix)"
    made.withLock { $0.append(path) }
    return path
  }

  /// Removes every path `make` gave (what exists of them), unless FEDSIM_KEEP_TEST_FILES is set.
  static func removeAll() {
    guard ProcessInfo.processInfo.environment["FEDSIM_KEEP_TEST_FILES"] == nil else { return }
    for path in made.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
  }
}
