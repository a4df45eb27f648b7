import Dispatch
import Glibc
import Synchronization
@testable import Tensors
import Testing
import TestSupport

/// `KernelTimes` splits the measured thread's time into products, passes and the rest, each
/// kernel counted once, in the part it is entered by.
@Suite("Kernel times: products, passes, the rest", .serialized)
struct KernelTimesTests {
  private func measured(threads: Int, _ body: () -> Void) -> KernelTimes.Split {
    let hold = BLASThreadsHold(threads: threads)
    defer { hold.release() }
    return KernelTimes.measure(body).1
  }

  private func inputs() -> (Tensor, Tensor) {
    var g = SeededGenerator(seed: 3)
    return (Tensor.uniform([256, 256], using: &g), Tensor.uniform([1, 16, 40, 40], using: &g))
  }

  @Test("a product's split over the threads is the product's time, not a pass", arguments: [1, 2])
  func productAlone(threads: Int) {
    let (a, _) = inputs()
    let split = measured(threads: threads) { _ = withoutGradients { matmul(a, a) } }
    #expect(split.products > 0)
    #expect(split.passes == 0)
    #expect(split.products <= split.total)
  }

  @Test("a convolution's inner passes and products count once, as the convolution", arguments: [1, 2])
  func convolutionAlone(threads: Int) {
    var g = SeededGenerator(seed: 4)
    let (_, x) = inputs()
    let w = Tensor.normal([16, 16, 3, 3], using: &g)
    let unfolded = Tensor.normal([16, 16, 2, 2], using: &g)  // no Winograd plan for 2×2: columns and a product
    let split = measured(threads: threads) {
      withoutGradients {
        _ = conv2d(x, filter: w, geometry: ConvGeometry(padding: (1, 1)))
        _ = conv2d(x, filter: unfolded, geometry: ConvGeometry())
      }
    }
    #expect(split.products > 0)
    #expect(split.passes == 0)
    #expect(split.products <= split.total)
  }

  @Test("an elementwise pass is a pass at one thread as at two; a small one is the rest", arguments: [1, 2])
  func elementwise(threads: Int) {
    let (a, _) = inputs()
    let small = Tensor(shape: [64], scalars: (0..<64).map(Float.init))
    let large = measured(threads: threads) { _ = withoutGradients { sigmoid(a) } }
    #expect(large.passes > 0 && large.products == 0)
    #expect(large.passes <= large.total)
    let tiny = measured(threads: threads) { _ = withoutGradients { sigmoid(small) } }
    #expect(tiny.passes == 0 && tiny.products == 0)
    #expect(tiny.rest == tiny.total && tiny.total > 0)
  }

  @Test("kernels another thread runs meanwhile are not the measured thread's")
  func otherThreads() {
    let (a, x) = inputs()
    let done = DispatchSemaphore(value: 0)
    let split = measured(threads: 2) {
      DispatchQueue.global().async {
        _ = withoutGradients { (sigmoid(a), conv2d(x, filter: x, geometry: ConvGeometry())) }
        done.signal()
      }
      done.wait()
    }
    #expect(split.products == 0 && split.passes == 0)
    #expect(split.helped == 0 && split.waiting == 0)
    #expect(split.total > 0)
  }

  @Test("the other threads' parts of the measured thread's passes are its helpers' time, its own waits its waiting")
  func helpers() {
    // A pool of the test's own, at two threads whatever other tests set `BLAS.threads` to; each
    // of 32 parts sleeps a millisecond, so the worker has time to start and take some.
    let pool = WorkerPool()
    let caller = UInt(pthread_self())
    let helperParts = Atomic<Int>(0)
    let (ran, split) = KernelTimes.measure {
      pool.run(32, parts: 2) { range in
        if UInt(pthread_self()) != caller { helperParts.add(range.count, ordering: .relaxed) }
        usleep(UInt32(1000 * range.count))
      }
    }
    #expect(ran)
    let parts = helperParts.load(ordering: .relaxed)
    #expect(parts > 0)
    #expect(split.helped >= 0.001 * Double(parts) && split.helped <= split.total)
    #expect(split.waiting >= 0 && split.waiting <= split.total)
    // Not measured: nothing is counted.
    _ = pool.run(32, parts: 2) { range in usleep(UInt32(100 * range.count)) }
    #expect(KernelTimes.measure { () }.1.helped == 0)
  }

  @Test("the rest is what the parts leave of the whole, never below zero")
  func rest() {
    var s = KernelTimes.Split()
    (s.products, s.passes, s.total) = (0.25, 0.5, 1)
    #expect(s.rest == 0.25)
    s.total = 0.5
    #expect(s.rest == 0)
  }

  @Test("an add pass adds every element, at one thread and two, and its rate is a rate", arguments: [1, 2])
  func bandwidth(threads: Int) {
    let hold = BLASThreadsHold(threads: threads)
    defer { hold.release() }
    let count = 100_003  // split over the threads, and not into equal parts
    var d = [Float](repeating: 0, count: count), s = [Float](repeating: 0, count: count)
    for i in 0..<count { s[i] = Float(i % 7 + 1) }
    d.withUnsafeMutableBufferPointer { d in
      for _ in 0..<3 { Kernels.accumulate(s, into: d.baseAddress!, count: count) }
    }
    #expect(d == s.map { 3 * $0 })
    let rate = MemoryBandwidth.addPass(bytes: 1 << 20, passes: 2)
    #expect(rate > 0 && rate.isFinite)
  }
}
