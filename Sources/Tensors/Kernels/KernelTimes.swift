import Glibc
import Synchronization

/// Where one thread's time goes while it runs FedSim's kernels, in three parts:
///
/// - **products**: convolutions (whichever way they are computed) and matrix products, bound by
///   the cores' arithmetic;
/// - **passes**: the other passes split over the threads (batch norm, activations, sums of
///   gradients, copies, pooling), bound by memory bandwidth;
/// - **rest**: what that thread runs alone (the graph's bookkeeping, allocation, passes too small
///   to split).
///
/// `fedsim bench --big-scaling` times each part at one thread and at several, to show which one
/// keeps more threads from being proportionally faster. Off unless `measure` runs: a kernel then
/// pays one relaxed load. Only the thread that called `measure` is timed, and a part entered
/// inside another (the products of an unfolded convolution, the passes of a Winograd one) counts
/// as the outer one.
public enum KernelTimes {
  /// Seconds in each part.
  public struct Split: Sendable, Equatable {
    public var products = 0.0
    public var passes = 0.0
    /// The whole of `measure`'s body.
    public var total = 0.0
    /// Of products and passes: the measured thread's wait, once its own parts of a split pass
    /// were done, for the parts other threads had claimed.
    public var waiting = 0.0
    /// Other threads' time on parts of the measured thread's split passes (and products): with
    /// `products + passes − waiting`, the thread time the split work took, to set beside one
    /// thread's.
    public var helped = 0.0
    /// What is neither products nor passes.
    public var rest: Double { Swift.max(0, total - products - passes) }

    public init() {}
  }

  enum Part { case products, passes }

  private static let on = Atomic<Bool>(false)
  /// The measured thread (`pthread_t`, an integer on Linux).
  private static let owner = Atomic<UInt>(0)
  // Read and written by the measured thread only.
  nonisolated(unsafe) private static var split = Split()
  nonisolated(unsafe) private static var inside = false
  /// Nanoseconds, added by the other threads.
  private static let helpedNanoseconds = Atomic<Int>(0)

  /// `body`'s result and how the calling thread's time was split while it ran. One `measure` at a
  /// time in the process (a nested or concurrent one is a programming error).
  public static func measure<R>(_ body: () throws -> R) rethrows -> (R, Split) {
    precondition(owner.load(ordering: .relaxed) == 0, "KernelTimes.measure: one at a time")
    owner.store(UInt(pthread_self()), ordering: .relaxed)
    (split, inside) = (Split(), false)
    helpedNanoseconds.store(0, ordering: .relaxed)
    on.store(true, ordering: .releasing)
    defer {
      on.store(false, ordering: .releasing)
      owner.store(0, ordering: .relaxed)
    }
    let start = now()
    let result = try body()
    split.total = seconds(since: start)
    // The last part a helper ran ended before the measured thread's wait for it did.
    split.helped = Double(helpedNanoseconds.load(ordering: .acquiring)) / 1e9
    return (result, split)
  }

  /// `body`, its time added to `part` when it runs on the measured thread outside another part.
  @inline(__always)
  static func timed<R>(_ part: Part, _ body: () -> R) -> R {
    guard measuringHere, !inside else { return body() }
    inside = true
    defer { inside = false }
    let (result, t) = elapsed(body)
    switch part {
    case .products: split.products += t
    case .passes: split.passes += t
    }
    return result
  }

  /// Whether the calling thread is the one being measured (then `timed` counts its parts, and
  /// `WorkerPool` times the split passes it starts: its waits, and the other threads' parts).
  @inline(__always)
  static var measuringHere: Bool {
    on.load(ordering: .relaxed) && owner.load(ordering: .relaxed) == UInt(pthread_self())
  }

  /// `body`, timed as the measured thread's wait for other threads' parts (`measuringHere`).
  static func waiting(_ body: () -> Void) {
    split.waiting += elapsed(body).1
  }

  /// `body`, timed as another thread's part of a pass the measured thread started.
  static func helping(_ body: () -> Void) {
    helpedNanoseconds.add(Int(elapsed(body).1 * 1e9), ordering: .releasing)
  }

  /// `body`'s result and the seconds it took.
  @inline(__always)
  private static func elapsed<R>(_ body: () -> R) -> (R, Double) {
    let start = now()
    let result = body()
    return (result, seconds(since: start))
  }

  private static func now() -> timespec {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return t
  }

  private static func seconds(since start: timespec) -> Double {
    let t = now()
    return Double(t.tv_sec - start.tv_sec) + Double(t.tv_nsec - start.tv_nsec) / 1e9
  }
}
