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

  /// The events named `event` in the log at `path` (every event when nil), each a JSON object;
  /// a missing log, or a line that is not JSON (one cut short), reads as no event.
  public static func events(in path: String, named event: String? = nil) -> [[String: Any]] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { line in
      guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
      return event == nil || object["event"] as? String == event ? object : nil
    }
  }
}
