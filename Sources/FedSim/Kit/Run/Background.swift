import FedSimCore
import Foundation

/// Work started at once on its own thread (libzmq sockets and processes block, so they must not
/// run on Swift's cooperative pool), polled or waited for later.
// Unchecked: `result` is only touched under `condition`.
public final class Background<T>: @unchecked Sendable {
  private var result: Result<T, Error>?
  private let condition = NSCondition()

  public init(_ body: @escaping @Sendable () throws -> T) {
    Thread { [self] in
      let r = Result { try body() }
      condition.lock()
      result = r
      condition.broadcast()
      condition.unlock()
    }.start()
  }

  /// Whether the work has ended.
  public var finished: Bool {
    condition.lock()
    defer { condition.unlock() }
    return result != nil
  }

  /// Waits for the work to end and returns its result (or throws its error).
  public func get() throws -> T {
    condition.lock()
    defer { condition.unlock() }
    while result == nil { condition.wait() }
    return try result!.get()
  }
}
