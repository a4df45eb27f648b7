import Glibc
import Synchronization

/// FedSim's own worker threads for `Kernels.parallel`. Dispatch parks its workers as soon as a
/// pass ends and wakes them through the kernel for the next one: DenseNet-121 makes some 2,500
/// parallel passes an evaluation, and at two threads about 11% of its samples were the
/// scheduler's and a third of a core sat idle. These workers spin a while on the pass word
/// (`state`) before they sleep, so the next pass, usually microseconds away, starts at once.
/// Past the first microseconds the spin yields the core each turn: with two such processes on
/// two cores, a pure spin took the cores from the other's work (ResNet-18 at two threads each,
/// 555–631 ms an evaluation against Dispatch's 416–476; yielding, 359–419).
///
/// Parts are claimed, not assigned (`Claims`): the caller, once its first claim is done, takes
/// any part no worker has claimed yet, so a worker that is late (asleep, or off its core on a busy
/// machine) costs no more than what it took. Two threads claim from both ends of the pass, so
/// that the one that runs late does less of it.
///
/// One caller at a time: a second caller (another thread, or a pass nested in a pass) gets
/// `false` from `run` and goes by Dispatch, in other ranges; kernels compute each index from
/// its own inputs, so results do not depend on the ranges or on which path ran.
final class WorkerPool: @unchecked Sendable {
  static let shared = WorkerPool()

  /// How long an idle worker spins before it sleeps.
  static let spin: Duration = .microseconds(200)

  private struct Job {
    let body: (Range<Int>) -> Void
    let count: Int
    let parts: Int
    /// Started by the thread `KernelTimes` measures: the workers time their parts of it.
    let timed: Bool
  }

  // What the workers spin on (`state`, with the `job` published with it), what they write
  // (`done`) and what the caller keeps (`taken`, `workers`, and `sleepers`, which a worker writes
  // only as it goes to sleep) lie on cache lines of their own. On one line, each thread's write
  // took the line from the other, and a pass of 16,384 elements (an add, 0.8 µs at one thread)
  // took 1.8 µs at two; apart, 0.8.
  private let taken = Atomic<Bool>(false)
  private let pad0 = CacheLinePad()
  /// The pass in progress as one word: its generation (bits 32 and up) and what of it is claimed
  /// (bits 0–31, `Claims`).
  private let state = Atomic<Int>(0)
  /// Written by the caller before it publishes a generation; read only by whoever claimed a
  /// part of it, and the caller changes it only once every part is done.
  private var job: Job?
  private let pad1 = CacheLinePad()
  /// Parts of the pass in progress that are done (`Claims` parts).
  private let done = Atomic<Int>(0)
  private let pad2 = CacheLinePad()
  private let sleepers = Atomic<Int>(0)
  /// Changed only by the caller that holds `taken`.
  private var workers = 0
  private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

  /// A pool of its own (tests); FedSim uses `shared`. Its workers live as long as the process.
  init() {
    pthread_mutex_init(lock, nil)
    pthread_cond_init(wake, nil)
  }

  /// Runs `body` over `0..<count` on the calling thread and `parts − 1` workers, in ranges as
  /// `Claims` deals them (two threads claim from both ends); `false` (and nothing run) when
  /// another caller holds the pool, `parts` is 32,768 or more, or a worker cannot be started.
  func run(_ count: Int, parts: Int, _ body: (Range<Int>) -> Void) -> Bool {
    guard parts <= Claims.mostInTurn else { return false }
    guard taken.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
      return false
    }
    defer { taken.store(false, ordering: .releasing) }
    guard grow(to: parts - 1) else { return false }
    withoutActuallyEscaping(body) { body in
      let claims =
        parts == 2 && count >= 2
        ? Claims.fromBothEnds(units: Swift.min(count, Claims.units)) : Claims.inTurn(parts: parts)
      let units = Claims.parts(claims)
      let timed = KernelTimes.measuringHere
      job = Job(body: body, count: count, parts: units, timed: timed)
      done.store(0, ordering: .relaxed)
      let generation = (Self.generation(state.load(ordering: .relaxed)) + 1) & 0x7fff_ffff
      state.store(generation << 32 | claims, ordering: .sequentiallyConsistent)
      if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
        pthread_mutex_lock(lock)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(lock)
      }
      runParts(of: generation, fromBack: false)
      if timed { KernelTimes.waiting { awaitParts(units) } } else { awaitParts(units) }
      job = nil
    }
    return true
  }

  private static func generation(_ state: Int) -> Int { state >> 32 }

  /// Claims and runs parts of pass `generation` until none is left unclaimed (`fromBack`: as a
  /// worker).
  private func runParts(of generation: Int, fromBack: Bool) {
    while let parts = claim(generation, fromBack: fromBack) {
      work(parts: parts, byWorker: fromBack)
      done.add(parts.count, ordering: .releasing)
    }
  }

  /// The next unclaimed parts of pass `generation` (`Claims`), now this thread's; nil when
  /// there are none (or that pass is over).
  private func claim(_ generation: Int, fromBack: Bool) -> Range<Int>? {
    var s = state.load(ordering: .acquiring)
    while Self.generation(s) == generation, let claim = Claims.next(s & 0xffff_ffff, fromBack: fromBack) {
      let next = s & ~0xffff_ffff | claim.word
      let (exchanged, original) = state.compareExchange(expected: s, desired: next, ordering: .acquiringAndReleasing)
      if exchanged { return claim.parts }
      s = original
    }
    return nil
  }

  /// Parts `parts` of the job, as one range; timed when a worker runs them for the measured
  /// thread. A function of its own so that its hold on the job's closure ends before the parts
  /// are reported done (the caller's `withoutActuallyEscaping` checks that nothing kept it).
  @inline(never)
  private func work(parts: Range<Int>, byWorker: Bool) {
    let job = job!
    if job.timed && byWorker { return KernelTimes.helping { runRange(job, parts: parts) } }
    runRange(job, parts: parts)
  }

  @inline(__always)
  private func runRange(_ job: Job, parts: Range<Int>) {
    let (from, to) = (
      Kernels.range(ofPart: parts.lowerBound, parts: job.parts, count: job.count).lowerBound,
      Kernels.range(ofPart: parts.upperBound - 1, parts: job.parts, count: job.count).upperBound
    )
    job.body(from..<to)
  }

  /// Waits until all `parts` are done (the last ones by workers that claimed them).
  private func awaitParts(_ parts: Int) {
    var spins = 0
    while done.load(ordering: .acquiring) < parts {
      spins += 1
      if spins > 4096 { sched_yield() }  // the machine is busier than its cores
    }
  }

  /// Starts workers until there are `count`.
  private func grow(to count: Int) -> Bool {
    while workers < count {
      guard start() else { return false }
      workers += 1
    }
    return true
  }

  private func start() -> Bool {
    // The worker waits for the generation after the current one, however late it starts.
    let worker = Worker(pool: self, seen: Self.generation(state.load(ordering: .relaxed)))
    let context = Unmanaged.passRetained(worker).toOpaque()
    var thread = pthread_t()
    let started = pthread_create(&thread, nil, { context in
      let worker = Unmanaged<Worker>.fromOpaque(context!).takeRetainedValue()
      worker.pool.serve(seen: worker.seen)
    }, context)
    guard started == 0 else {
      Unmanaged<Worker>.fromOpaque(context).release()
      return false
    }
    pthread_detach(thread)
    return true
  }

  private final class Worker {
    let pool: WorkerPool
    let seen: Int
    init(pool: WorkerPool, seen: Int) { (self.pool, self.seen) = (pool, seen) }
  }

  /// A worker's life: wait for the next pass, take what parts of it are left.
  private func serve(seen: Int) -> Never {
    var seen = seen
    while true {
      seen = next(after: seen)
      runParts(of: seen, fromBack: true)
    }
  }

  /// The generation after `seen`: spun for up to `spin`, then slept for.
  private func next(after seen: Int) -> Int {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: Self.spin)
    var spins = 0
    while true {
      let g = Self.generation(state.load(ordering: .acquiring))
      if g != seen { return g }
      spins += 1
      // Past the first microseconds, let whatever else this core has run (another process's
      // threads, when the machine has more than its cores to do); at once back when it has none.
      if spins > 1024 { sched_yield() }
      if spins & 255 == 0 && clock.now > deadline { break }
    }
    pthread_mutex_lock(lock)
    sleepers.add(1, ordering: .sequentiallyConsistent)
    while Self.generation(state.load(ordering: .sequentiallyConsistent)) == seen { pthread_cond_wait(wake, lock) }
    sleepers.subtract(1, ordering: .sequentiallyConsistent)
    pthread_mutex_unlock(lock)
    return Self.generation(state.load(ordering: .acquiring))
  }
}

/// 128 bytes between fields different threads write, so that they lie on different cache lines
/// (two 64-byte lines: some CPUs fetch lines in pairs).
private struct CacheLinePad {
  let bytes: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) =
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
}
