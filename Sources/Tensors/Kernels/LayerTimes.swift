import Glibc
import Synchronization

/// Where the measured thread's product time goes, work by work: each convolution pass (forward,
/// input gradient, filter gradient) by shape and by the way it was computed, and each other
/// matrix product by shape. `fedsim bench --big-layers` prints the largest, to show what stands
/// between an evaluation and its floor. Off unless `measure` runs: a kernel then pays one
/// relaxed load. Only the thread that called `measure` is timed (its wall time, its helpers'
/// parts included), and a product inside a convolution counts as the convolution.
public enum LayerTimes {
  /// One kind of work and its time.
  public struct Row: Sendable, Equatable, Codable {
    /// What ran, as "3×3 conv 512→512, 1×7×7, stride 1: input gradient (unfolded)" or
    /// "product 512×4608 · 4608×49".
    public let work: String
    public var calls = 0
    public var seconds = 0.0
    /// Twice the multiply-adds of the direct computation (of a Winograd layer, those it replaces).
    public var flops = 0

    public init(work: String) { self.work = work }
  }

  public enum Pass: String, Sendable { case forward, inputGradient = "input gradient", filterGradient = "filter gradient" }

  private static let on = Atomic<Bool>(false)
  private static let owner = Atomic<UInt>(0)
  // Read and written by the measured thread only.
  nonisolated(unsafe) private static var rows: [String: Row] = [:]
  nonisolated(unsafe) private static var inside = false

  /// `body`'s result and the rows of work it ran, the longest first. One `measure` at a time in
  /// the process.
  public static func measure<R>(_ body: () throws -> R) rethrows -> (R, [Row]) {
    precondition(owner.load(ordering: .relaxed) == 0, "LayerTimes.measure: one at a time")
    owner.store(UInt(pthread_self()), ordering: .relaxed)
    (rows, inside) = ([:], false)
    on.store(true, ordering: .releasing)
    defer {
      on.store(false, ordering: .releasing)
      owner.store(0, ordering: .relaxed)
    }
    let result = try body()
    return (result, rows.values.sorted { $0.seconds > $1.seconds })
  }

  /// A convolution pass, timed.
  @inline(__always)
  static func timed<R>(_ s: ConvShape, _ pass: Pass, _ path: ConvolutionPath, _ body: () -> R) -> R {
    timed(
      "\(s.kh)×\(s.kw) conv \(s.c)→\(s.o)\(s.geo.groups > 1 ? " in \(s.geo.groups) groups" : ""), "
        + "\(s.n)×\(s.h)×\(s.w), stride \(s.geo.stride.0): \(pass.rawValue) (\(path.rawValue))",
      flops: 2 * s.n * s.o * s.cg * s.kh * s.kw * s.oh * s.ow, body)
  }

  /// `body`, its time added to the row `work` when it runs on the measured thread outside
  /// another timed work.
  @inline(__always)
  static func timed<R>(_ work: @autoclosure () -> String, flops: @autoclosure () -> Int, _ body: () -> R) -> R {
    guard on.load(ordering: .relaxed), owner.load(ordering: .relaxed) == UInt(pthread_self()), !inside else {
      return body()
    }
    inside = true
    defer { inside = false }
    var start = timespec(), end = timespec()
    clock_gettime(CLOCK_MONOTONIC, &start)
    let result = body()
    clock_gettime(CLOCK_MONOTONIC, &end)
    let key = work()
    var row = rows[key] ?? Row(work: key)
    row.calls += 1
    row.seconds += Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
    row.flops += flops()
    rows[key] = row
    return result
  }
}
