import Foundation

/// A value behind an `NSLock`: a pthread mutex, which ThreadSanitizer understands (it cannot
/// see `Synchronization.Mutex` on Linux). For state shared with Foundation's threads and
/// signal handlers.
// Unchecked: `value` is only touched under `lock`.
public final class Locked<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Value

  public init(_ value: Value) { self.value = value }

  public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
    lock.lock()
    defer { lock.unlock() }
    return try body(&value)
  }
}
