import Foundation
import Synchronization
@testable import Tensors
import Testing

/// FedSim's spinning workers: every index once, in the ranges Dispatch would give, from a pool
/// that grows, whose workers take parts, that a second caller finds held, and that never leaves
/// a caller waiting.
@Suite("Worker pool")
struct WorkerPoolTests {
  /// How many times each of `0..<count` was visited, and the ranges seen, for one `run`.
  private final class Visits: @unchecked Sendable {
    let lock = NSLock()
    var counts: [Int]
    var ranges: [Range<Int>] = []
    var threads: Set<UInt> = []
    init(_ count: Int) { counts = Array(repeating: 0, count: count) }
    func visit(_ range: Range<Int>) {
      lock.withLock {
        for i in range { counts[i] += 1 }
        ranges.append(range)
        threads.insert(UInt(pthread_self()))
      }
    }
    var tally: [Int] { lock.withLock { counts } }
  }

  @Test("each index once, in the contiguous ranges of count × part / parts, on up to parts threads")
  func ranges() {
    let pool = WorkerPool()
    for (count, parts) in [(10, 2), (7, 3), (3, 3), (1000, 4), (5, 2)] {
      let visits = Visits(count)
      #expect(pool.run(count, parts: parts) { visits.visit($0) })
      #expect(visits.tally == Array(repeating: 1, count: count), "\(count) in \(parts)")
      let expected = (0..<parts).map { count * $0 / parts..<count * ($0 + 1) / parts }
      #expect(visits.ranges.sorted { $0.lowerBound < $1.lowerBound } == expected, "\(count) in \(parts)")
      #expect((1...parts).contains(visits.threads.count), "\(count) in \(parts): \(visits.threads.count) threads")
    }
  }

  @Test("parts that take a while run on the workers too, not all on the caller")
  func workersTakeParts() {
    let pool = WorkerPool()
    var most = 0
    for _ in 0..<5 {
      let visits = Visits(4)
      #expect(pool.run(4, parts: 4) { visits.visit($0); usleep(20_000) })
      #expect(visits.tally == Array(repeating: 1, count: 4))
      most = Swift.max(most, visits.threads.count)
    }
    // The caller takes parts no worker has claimed yet: in 20 ms a worker, spinning or woken, claims one.
    #expect(most > 1)
  }

  @Test("a pass inside a pass, or a second caller, finds the pool held and is told so")
  func held() {
    let pool = WorkerPool()
    let inner = Atomic<Int>(0)  // 1 taken, 2 refused
    #expect(pool.run(4, parts: 2) { range in
      guard range.lowerBound == 0 else { return }
      let ran = pool.run(4, parts: 2) { _ in }
      inner.store(ran ? 1 : 2, ordering: .relaxed)
    })
    #expect(inner.load(ordering: .relaxed) == 2)
    #expect(pool.run(4, parts: 2) { _ in }, "free again once the outer pass returned")
  }

  @Test("thousands of short passes from several threads at once: all done, by the pool or by the caller")
  func manyPasses() {
    let pool = WorkerPool()
    let callers = 3, passes = 3000
    let complete = Atomic<Int>(0), pooled = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: callers) { _ in
      for pass in 0..<passes {
        let count = 1 + pass % 17
        let visited = Atomic<Int>(0)
        let body = { (range: Range<Int>) in _ = visited.add(range.count, ordering: .relaxed) }
        if pool.run(count, parts: Swift.min(2, count), body) {
          pooled.add(1, ordering: .relaxed)
        } else {
          body(0..<count)  // held: what Kernels.parallel does by Dispatch
        }
        complete.add(visited.load(ordering: .relaxed) == count ? 1 : 0, ordering: .relaxed)
      }
    }
    #expect(complete.load(ordering: .relaxed) == callers * passes)
    #expect(pooled.load(ordering: .relaxed) > 0)
  }

  @Test("passes far apart: workers that went to sleep wake for the next one")
  func afterSleeping() {
    let pool = WorkerPool()
    for _ in 0..<3 {
      let visits = Visits(6)
      #expect(pool.run(6, parts: 3) { visits.visit($0) })
      #expect(visits.tally == Array(repeating: 1, count: 6))
      usleep(5_000)  // 25 times the spin: every worker is asleep
    }
  }
}
