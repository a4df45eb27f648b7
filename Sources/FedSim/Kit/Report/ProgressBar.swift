import FedSimCore
import Foundation

/// A one-line progress bar with the time left, redrawn in place on a terminal and silent
/// otherwise (messages then print as plain lines).
// Unchecked: every mutable field is only touched under `lock`.
public final class ProgressBar: @unchecked Sendable {
  public let total: Int
  public let label: String
  private let start = Date()
  private let lock = NSLock()
  private let live = isatty(1) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
  private var done = 0
  private var lastDraw = Date.distantPast
  private var closed = false

  public init(total: Int, label: String) { (self.total, self.label) = (Swift.max(1, total), label) }

  /// Marks `done` of `total` units finished (redrawn at most ten times a second).
  public func update(_ done: Int) {
    lock.withLock {
      self.done = Swift.min(done, total)
      guard live, !closed, Date().timeIntervalSince(lastDraw) > 0.1 || done >= total else { return }
      lastDraw = Date()
      closed = done >= total
      write("\r" + line() + "\u{1B}[K" + (done >= total ? "\n" : ""))
    }
  }

  /// Prints a message above the bar.
  public func message(_ text: String) {
    lock.withLock { write(live ? "\r\u{1B}[K" + text + "\n" + (done < total ? line() : "") : text + "\n") }
  }

  func line() -> String {
    let fraction = Double(done) / Double(total)
    let width = 30
    let filled = Int((fraction * Double(width)).rounded(.down))
    let elapsed = Date().timeIntervalSince(start)
    let left = done > 0 ? elapsed * Double(total - done) / Double(done) : .nan
    return "\(label) [" + String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
      + String(format: "] %3.0f%%  %d/%d  ", 100 * fraction, done, total)
      + (left.isFinite ? "about \(Self.duration(left)) left" : "estimating…")
  }

  static func duration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
  }

  private func write(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
}
