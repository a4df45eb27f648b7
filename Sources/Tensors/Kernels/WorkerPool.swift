import Glibc
import Synchronization

/// FedSim's own worker threads for `Kernels.parallel`. Dispatch parks its workers as soon as a
/// pass ends and wakes them through the kernel for the next one: DenseNet-121 makes some 2,500
/// parallel passes an evaluation, and at two threads about 11% of its samples were the
/// scheduler's and a third of a core sat idle. These workers spin a while on a generation
/// counter before they sleep, so the next pass, usually microseconds away, starts at once.
/// Past the first microseconds the spin yields the core each turn: with two such processes on
/// two cores, a pure spin took the cores from the other's work (ResNet-18 at two threads each,
/// 555–631 ms an evaluation against Dispatch's 416–476; yielding, 359–419).
///
/// One caller at a time: a second caller (another thread, or a pass nested in a pass) gets
/// `false` from `run` and goes by Dispatch. Parts are the same ranges either way, so results do
/// not depend on which path ran.
final class WorkerPool: @unchecked Sendable {
  static let shared = WorkerPool()

  /// How long an idle worker spins before it sleeps.
  static let spin: Duration = .microseconds(200)

  private struct Job {
    let body: (Range<Int>) -> Void
    let count: Int
    let parts: Int
  }

  private let taken = Atomic<Bool>(false)
  private let generation = Atomic<Int>(0)
  private let finished = Atomic<Int>(0)
  private let sleepers = Atomic<Int>(0)
  /// Written by the caller before it raises `generation`, read by the workers after.
  private var job: Job?
  /// Changed only by the caller that holds `taken`.
  private var workers = 0
  private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

  /// A pool of its own (tests); FedSim uses `shared`. Its workers live as long as the process.
  init() {
    pthread_mutex_init(lock, nil)
    pthread_cond_init(wake, nil)
  }

  /// Runs `body` over `0..<count` in `parts` ranges, part 0 on the calling thread; `false`
  /// (and nothing run) when another caller holds the pool or a worker cannot be started.
  func run(_ count: Int, parts: Int, _ body: (Range<Int>) -> Void) -> Bool {
    guard taken.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
      return false
    }
    defer { taken.store(false, ordering: .releasing) }
    guard grow(to: parts - 1) else { return false }
    withoutActuallyEscaping(body) { body in
      job = Job(body: body, count: count, parts: parts)
      finished.store(0, ordering: .relaxed)
      generation.add(1, ordering: .sequentiallyConsistent)
      if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
        pthread_mutex_lock(lock)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(lock)
      }
      body(0..<count / parts)
      awaitWorkers()
      job = nil
    }
    return true
  }

  /// Waits until every worker has seen the job (and done its part, if it had one).
  private func awaitWorkers() {
    var spins = 0
    while finished.load(ordering: .acquiring) < workers {
      spins += 1
      if spins > 4096 { sched_yield() }  // the machine is busier than its cores
    }
  }

  /// Starts workers until there are `count`.
  private func grow(to count: Int) -> Bool {
    while workers < count {
      guard start(index: workers + 1) else { return false }
      workers += 1
    }
    return true
  }

  private func start(index: Int) -> Bool {
    // The worker waits for the generation after the current one, however late it starts.
    let worker = Worker(pool: self, index: index, seen: generation.load(ordering: .relaxed))
    let context = Unmanaged.passRetained(worker).toOpaque()
    var thread = pthread_t()
    let started = pthread_create(&thread, nil, { context in
      let worker = Unmanaged<Worker>.fromOpaque(context!).takeRetainedValue()
      worker.pool.serve(index: worker.index, seen: worker.seen)
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
    let index: Int
    let seen: Int
    init(pool: WorkerPool, index: Int, seen: Int) { (self.pool, self.index, self.seen) = (pool, index, seen) }
  }

  /// A worker's life: wait for the next job, do part `index` of it if there is one, report.
  private func serve(index: Int, seen: Int) -> Never {
    var seen = seen
    while true {
      seen = next(after: seen)
      work(index: index)
      finished.add(1, ordering: .releasing)
    }
  }

  /// Part `index` of the job, if it has one. A function of its own so that its hold on the
  /// job's closure ends before the worker reports (the caller's `withoutActuallyEscaping`
  /// checks that nothing kept it).
  @inline(never)
  private func work(index: Int) {
    let job = job!
    if index < job.parts {
      job.body(job.count * index / job.parts..<job.count * (index + 1) / job.parts)
    }
  }

  /// The generation after `seen`: spun for up to `spin`, then slept for.
  private func next(after seen: Int) -> Int {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: Self.spin)
    var spins = 0
    while true {
      let g = generation.load(ordering: .acquiring)
      if g != seen { return g }
      spins += 1
      // Past the first microseconds, let whatever else this core has run (another process's
      // threads, when the machine has more than its cores to do); at once back when it has none.
      if spins > 1024 { sched_yield() }
      if spins & 255 == 0 && clock.now > deadline { break }
    }
    pthread_mutex_lock(lock)
    sleepers.add(1, ordering: .sequentiallyConsistent)
    while generation.load(ordering: .sequentiallyConsistent) == seen { pthread_cond_wait(wake, lock) }
    sleepers.subtract(1, ordering: .sequentiallyConsistent)
    pthread_mutex_unlock(lock)
    return generation.load(ordering: .acquiring)
  }
}
