import Dispatch

extension Kernels {
  /// Runs `body` over `0..<count` split into one contiguous range for each BLAS thread, those
  /// ranges at once: the memory-bound passes around the matrix products then use the cores the
  /// products use. One range, on the calling thread, when BLAS has one thread or `count` is 1.
  /// FedSim's `WorkerPool` runs the ranges; Dispatch when the pool is held (a second caller,
  /// or a pass inside a pass).
  /// Timed as passes (`KernelTimes`), unless inside a product.
  static func parallel(_ count: Int, _ body: (Range<Int>) -> Void) {
    KernelTimes.timed(.passes) { inRanges(count, body) }
  }

  private static func inRanges(_ count: Int, _ body: (Range<Int>) -> Void) {
    let parts = Swift.min(blasThreads, count)
    guard parts > 1 else { return body(0..<count) }
    if WorkerPool.shared.run(count, parts: parts, body) { return }
    withoutActuallyEscaping(body) { body in
      let ranges = Ranges(body: body)  // each thread writes its own range only
      DispatchQueue.concurrentPerform(iterations: parts) { part in
        ranges.body(range(ofPart: part, parts: parts, count: count))
      }
    }
  }

  /// Part `part` of `0..<count` cut into `parts` contiguous ranges, as every split into parts
  /// cuts it, whichever thread runs the part: `count·part/parts ..< count·(part + 1)/parts`.
  @inline(__always)
  static func range(ofPart part: Int, parts: Int, count: Int) -> Range<Int> {
    count * part / parts..<count * (part + 1) / parts
  }

  private struct Ranges: @unchecked Sendable {
    let body: (Range<Int>) -> Void
  }

  /// Elements below which an elementwise pass stays on one thread: handing a part to a worker
  /// costs more. With `WorkerPool`'s spinning workers that is a few microseconds; under Dispatch
  /// it was 1 << 15 (at 1 << 12 the small late layers of DenseNet-121 split too: at two
  /// threads, 10 alternated pairs over the three big models ran 8% faster on average, 7 of 10 faster).
  static let parallelElements = 1 << 12

  /// Runs `body` over `0..<count` in parallel ranges when `work` (elements touched, `count` by
  /// default) is large enough to pay, else in one range on the calling thread.
  @inline(__always)
  static func parallel(_ count: Int, work: Int, _ body: (Range<Int>) -> Void) {
    if work < parallelElements { return body(0..<count) }
    parallel(count, body)
  }

  /// `parallel(count, work: count, body)`: an elementwise pass.
  @inline(__always)
  static func elementwise(_ count: Int, _ body: (Range<Int>) -> Void) { parallel(count, work: count, body) }

  /// `d[i] += s[i]` for every `i` below `count`, an elementwise pass: a backward pass's sums of
  /// gradients (`Tensor.accumulate`), and the pass `MemoryBandwidth` times.
  static func accumulate(_ s: UnsafePointer<Float>, into d: UnsafeMutablePointer<Float>, count: Int) {
    elementwise(count) { range in
      for i in range { d[i] += s[i] }
    }
  }

  /// Sets `count` floats at `p` to `value`, a large run on FedSim's threads: a zeroed gradient
  /// is then in the caches of the threads that go on to add into it.
  static func fill(_ p: UnsafeMutablePointer<Float>, count: Int, with value: Float) {
    let p = Shared(p)
    elementwise(count) { range in (p.pointer + range.lowerBound).initialize(repeating: value, count: range.count) }
  }
}
