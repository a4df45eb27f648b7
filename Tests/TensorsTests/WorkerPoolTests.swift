import Foundation
import Synchronization
@testable import Tensors
import Testing

/// FedSim's spinning workers: every index once, in the ranges Dispatch would give (claimed from
/// both ends at two threads), from a pool that grows, whose workers take parts, that a second
/// caller finds held, and that never leaves a caller waiting.
@Suite("Worker pool")
struct WorkerPoolTests {
  /// How many times each of `0..<count` was visited, and the ranges seen, for one `run`.
  private final class Visits: @unchecked Sendable {
    let lock = NSLock()
    var counts: [Int]
    var ranges: [Range<Int>] = []
    /// The thread of each of `ranges`.
    var order: [UInt] = []
    var threads: Set<UInt> = []
    init(_ count: Int) { counts = Array(repeating: 0, count: count) }
    func visit(_ range: Range<Int>) {
      lock.withLock {
        for i in range { counts[i] += 1 }
        ranges.append(range)
        order.append(UInt(pthread_self()))
        threads.insert(UInt(pthread_self()))
      }
    }
    var tally: [Int] { lock.withLock { counts } }
  }

  @Test("three or more threads: each index once, in the contiguous ranges of count × part / parts")
  func ranges() {
    let pool = WorkerPool()
    for (count, parts) in [(7, 3), (3, 3), (1000, 4), (1, 2)] {
      let visits = Visits(count)
      #expect(pool.run(count, parts: parts) { visits.visit($0) })
      #expect(visits.tally == Array(repeating: 1, count: count), "\(count) in \(parts)")
      let expected = (0..<parts).map { count * $0 / parts..<count * ($0 + 1) / parts }
      #expect(visits.ranges.sorted { $0.lowerBound < $1.lowerBound } == expected, "\(count) in \(parts)")
      #expect((1...parts).contains(visits.threads.count), "\(count) in \(parts): \(visits.threads.count) threads")
    }
  }

  @Test("two threads: each index once, in ranges whose ends lie on the grid of count × u / units, the caller's from 0")
  func rangesFromBothEnds() {
    let pool = WorkerPool()
    let caller = UInt(pthread_self())
    for count in [2, 3, 5, 10, 31, 32, 33, 1000, 4099] {
      for _ in 0..<20 {
        let visits = Visits(count)
        #expect(pool.run(count, parts: 2) { visits.visit($0) })
        #expect(visits.tally == Array(repeating: 1, count: count), "\(count)")
        let units = Swift.min(count, Claims.units)
        let grid = Set((0...units).map { count * $0 / units })
        #expect(visits.ranges.allSatisfy { grid.contains($0.lowerBound) && grid.contains($0.upperBound) }, "\(count)")
        let first = visits.lock.withLock { zip(visits.ranges, visits.order).first { $0.0.lowerBound == 0 }?.1 }
        #expect(first == caller, "\(count): the first range is the caller's")
      }
    }
  }

  @Test("two threads, the caller slow: the worker takes its home and the parts between the homes")
  func slowSideDoesLess() {
    let pool = WorkerPool()
    let caller = UInt(pthread_self())
    var most = 0
    for _ in 0..<3 {
      let visits = Visits(32)
      #expect(pool.run(32, parts: 2) { range in
        visits.visit(range)
        if UInt(pthread_self()) == caller { usleep(UInt32(2_000 * range.count)) }
      })
      #expect(visits.tally == Array(repeating: 1, count: 32))
      let byWorker = visits.lock.withLock { zip(visits.ranges, visits.order).filter { $0.1 != caller }.map(\.0.count).reduce(0, +) }
      most = Swift.max(most, byWorker)
    }
    // Homes of 14 parts each; the 4 between them go to the worker while the caller sleeps 28 ms.
    #expect(most == 18)
  }

  @Test("claims from both ends cover every part once, each side's first claim its home (or what is left), whatever the order")
  func claimsFromBothEnds() {
    var generator = SystemRandomNumberGenerator()
    for units in 1...Claims.units {
      for _ in 0..<50 {
        var word = Claims.fromBothEnds(units: units)
        var seen = Array(repeating: 0, count: units)
        var (front, back) = (0, units)
        var firsts: [Bool: Int] = [:]  // each side's first claim less what it should be
        let home = units * 7 / 16
        while true {
          let sides = [false, true].filter { Claims.next(word, fromBack: $0) != nil }
          guard let fromBack = sides.randomElement(using: &generator) else { break }
          let claim = Claims.next(word, fromBack: fromBack)!
          #expect(!claim.parts.isEmpty)
          let (left, reserved) = (back - front, fromBack && front == 0 ? Swift.max(home, 1) : 0)
          #expect(claim.parts.lowerBound >= front + reserved, "the caller's home is kept for it")
          if fromBack { #expect(claim.parts.upperBound == back); back = claim.parts.lowerBound } else {
            #expect(claim.parts.lowerBound == front); front = claim.parts.upperBound
          }
          // A side's first claim is its home, or what is left when the other side took more.
          if firsts[fromBack] == nil { firsts[fromBack] = claim.parts.count - Swift.min(home, left - reserved) }
          for p in claim.parts { seen[p] += 1 }
          word = claim.word
        }
        #expect(seen == Array(repeating: 1, count: units), "\(units) parts")
        if home > 0 { #expect(firsts.values.allSatisfy { $0 == 0 }, "\(units): \(firsts)") }
      }
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
