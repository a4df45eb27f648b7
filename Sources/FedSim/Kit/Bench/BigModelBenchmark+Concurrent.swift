import Foundation
import Synchronization
import Tensors

extension BigModelBenchmark.Prepared {
  /// `copies` runs of `evals` evaluations at once, one a thread, each on one BLAS thread (sets
  /// `BLAS.threads` to 1 and leaves it there): the times of all of them (ms) and the value each
  /// run's last evaluation gave. Independent evaluations share nothing but the machine (its
  /// caches, memory and cores), so their slowdown against one alone is what the machine takes from
  /// work split `copies` ways before any of the split's own costs: `BigModelScaling`'s ceiling.
  /// The model's tensors are immutable and the evaluations' graphs are their own; the process's
  /// peak memory grows by one evaluation's for each copy.
  public func concurrentEvaluations(_ evals: Int, copies: Int) -> (times: [Double], values: [Float]) {
    BLAS.threads = 1
    let runs = Mutex<[(times: [Double], value: Float)]>([])
    let box = Unchecked(self)
    DispatchQueue.concurrentPerform(iterations: copies) { _ in
      let run = box.value.timedEvaluations(evals)
      runs.withLock { $0.append(run) }
    }
    let all = runs.withLock { $0 }
    return (all.flatMap(\.times), all.map(\.value))
  }
}

/// A value handed to the threads of `concurrentPerform`, which each only read it.
private struct Unchecked<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
