import FedSimCore
import Tensors

/// How the server folds a round's updates into the global model.
struct Aggregation {
  let scenario: Scenario

  /// FedSGD: one SGD step along the examples-weighted mean gradient. FedAvg: the examples-
  /// weighted mean of the clients' weight changes. `mean` is `weightedMean` of the round's
  /// updates. Nil when the result is not finite (the model is then kept).
  func apply(_ model: AnyModel, mean: [Tensor]) -> AnyModel? {
    let f = scenario.federation
    let step: Float = f.algorithm == .fedsgd ? -Float(f.learningRate) : 1
    let next = zip(model.parameters, mean).map { $0 + $1 * step }
    guard next.allSatisfy({ $0.scalars.allSatisfy(\.isFinite) }) else { return nil }
    return model.withParameters(next)
  }

  /// The examples-weighted mean of the updates.
  static func weightedMean(_ updates: [ClientUpdate]) -> [Tensor] {
    guard let first = updates.first else { return [] }
    let total = Float(updates.reduce(0) { $0 + $1.header.examples })
    var mean = first.tensors.map { Tensor.zeros($0.shape) }
    for u in updates {
      let w = Float(u.header.examples) / total
      for i in mean.indices { mean[i] = mean[i] + u.tensors[i] * w }
    }
    return mean
  }
}
