import FedSimCore
import Foundation

/// Runs `count` tasks on up to `jobs` threads at once, while the calling thread receives, in
/// order of arrival, the lines they say and their outcomes, so progress and bookkeeping stay
/// on one thread. A task is started only while `shouldStart()` holds.
enum JobPool {
  enum Event<Outcome> {
    case line(String)
    case done(Int, Outcome)
    case workerFinished
  }

  static func run<Outcome: Sendable>(
    count: Int, jobs: Int, shouldStart: @escaping @Sendable () -> Bool,
    work: @escaping @Sendable (_ task: Int, _ say: @escaping @Sendable (String) -> Void) -> Outcome,
    line: (String) -> Void, done: (Int, Outcome) -> Void
  ) {
    let events = Locked<[Event<Outcome>]>([])
    let arrived = DispatchSemaphore(value: 0)
    let next = Locked(0)
    let post: @Sendable (Event<Outcome>) -> Void = { e in
      events.withLock { $0.append(e) }
      arrived.signal()
    }
    let workers = max(1, min(jobs, count))
    for _ in 0..<workers {
      let thread = Thread {
        while true {
          let task = next.withLock { n -> Int? in
            guard n < count, shouldStart() else { return nil }
            defer { n += 1 }
            return n
          }
          guard let task else { break }
          post(.done(task, work(task) { post(.line($0)) }))
        }
        post(.workerFinished)
      }
      thread.stackSize = 8 << 20
      thread.start()
    }
    var finishedWorkers = 0
    while finishedWorkers < workers {
      arrived.wait()
      let batch = events.withLock { e in defer { e.removeAll() }; return e }
      for event in batch {
        switch event {
        case .line(let text): line(text)
        case .done(let task, let outcome): done(task, outcome)
        case .workerFinished: finishedWorkers += 1
        }
      }
    }
  }
}
