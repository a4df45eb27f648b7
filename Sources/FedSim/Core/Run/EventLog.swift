import Synchronization
import Foundation

/// An append-only JSON-lines log, one line per event, flushed as written: what a process did,
/// for people and tests to read (the launcher reads round records, not this).
public final class EventLog: Sendable {
  // A FileHandle is not Sendable; every write goes through the lock.
  private let handle: Mutex<FileHandle?>
  private let role: String

  /// Starts the log at `path` (its folder made if need be). A log that cannot be opened or
  /// written (a full disk) loses lines, never the process.
  public init(path: String, role: String) {
    try? FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    handle = Mutex(FileHandle(forWritingAtPath: path))
    self.role = role
  }

  public func log(_ event: String, _ fields: [String: any Sendable] = [:]) {
    var object: [String: Any] = fields
    object["event"] = event
    object["role"] = role
    object["time"] = Date().timeIntervalSince1970
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
    handle.withLock { try? $0?.write(contentsOf: data + Data("\n".utf8)) }
  }
}
