import Foundation

/// `BLAS.threads` is the process's, and suites run side by side. A test that sets it holds it
/// for its whole body (`let hold = BLASThreadsHold()`, `defer { hold.release() }`, before it
/// reads the count it will restore): no other test sets it until then. Without this, a test
/// that set three threads while another ran a DenseNet-121 evaluation at two made that
/// evaluation's last bits differ from its previous run's (OpenBLAS sums a product cut into other
/// blocks in another order), once in four full runs on a Zen 3 host.
public struct BLASThreadsHold {
  nonisolated(unsafe) private static let lock = NSRecursiveLock()

  public init() { Self.lock.lock() }

  public func release() { Self.lock.unlock() }
}
