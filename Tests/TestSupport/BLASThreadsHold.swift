import Foundation
import Tensors

/// `BLAS.threads` is the process's, and suites run side by side. A test that sets it holds it
/// for its whole body (`let hold = BLASThreadsHold(threads: n)`, `defer { hold.release() }`):
/// no other test sets it until then, and the release puts back the count the hold found.
/// Without this, a test that set three threads while another ran a DenseNet-121 evaluation at
/// two made that evaluation's last bits differ from its previous run's (OpenBLAS sums a product
/// cut into other blocks in another order), once in four full runs on a Zen 3 host.
public struct BLASThreadsHold {
  private static let lock = NSRecursiveLock()

  /// The count when the hold was taken, put back on release.
  private let before: Int

  /// Takes the hold, then sets `threads` if given (the test may set others while it holds).
  public init(threads: Int? = nil) {
    Self.lock.lock()
    before = BLAS.threads
    if let threads { BLAS.threads = threads }
  }

  public func release() {
    BLAS.threads = before
    Self.lock.unlock()
  }
}
