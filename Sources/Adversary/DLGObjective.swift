import Tensors

/// The objective every optimisation-based gradient-inversion attack minimises: the distance
/// between the gradient a dummy input and label would produce and the gradient a client shared,
/// plus an optional total-variation prior on the dummy image (Inverting Gradients).
///
/// One evaluation runs the model forward on the dummy input, differentiates the loss with
/// respect to the weights while recording (create_graph), measures the distance to the shared
/// gradient, and differentiates that distance back to the dummy input and label logits.
public struct DLGObjective<Model: Layer>: Sendable {
  /// The model with its parameters as graph leaves.
  public let model: Model
  /// The gradient the client shared, in the model's parameter order.
  public let sharedGradient: [Tensor]
  public let distance: GradientDistance
  /// The weight of the total-variation prior (0: none).
  public let totalVariation: Float
  /// FedAvg: the local SGD steps to replay on the dummy batch (nil: the update is one gradient).
  public let localSteps: LocalSteps?
  private let sortedShared: [Tensor]?

  public init(
    model: Model, sharedGradient: [Tensor], distance: GradientDistance = .l2,
    totalVariation: Float = 0, localSteps: LocalSteps? = nil
  ) {
    self.model = model.requiringGradients()
    self.sharedGradient = sharedGradient.map { $0.detached() }
    self.distance = distance
    self.totalVariation = totalVariation
    self.localSteps = localSteps
    sortedShared = distance.sortsValues ? GradientDistance.sortedLayers(sharedGradient) : nil
  }

  /// The objective and its gradients with respect to the dummy input and, when the label is not
  /// known, the dummy label logits (the dummy label is their softmax).
  public func evaluate(input: Tensor, labelLogits: Tensor?, knownLabels: Tensor? = nil)
    -> (value: Float, inputGradient: Tensor, labelGradient: Tensor?)
  {
    let x = input.requiringGradient()
    let y = labelLogits?.requiringGradient()
    let targets = knownLabels ?? softmax(y!, alongAxis: -1)
    let dummyGradient = localSteps.map { replayed($0, x, targets) } ?? gradient(model, x, targets)
    var d = distance(dummyGradient, sharedGradient, sortedTarget: sortedShared)
    if totalVariation > 0 { d = d + totalVariation * Adversary.totalVariation(x) }
    let g = gradients(of: d, wrt: y.map { [x, $0] } ?? [x])
    return (d.scalar, g[0], y == nil ? nil : g[1])
  }

  /// The loss gradient of `m` on the dummy batch, recorded so it can be differentiated again.
  private func gradient<M: Layer>(_ m: M, _ x: Tensor, _ targets: Tensor) -> [Tensor] {
    gradients(of: softCrossEntropy(logits: m(x), targets: targets), wrt: m.parameters, createGraph: true)
  }

  /// A FedAvg update replayed on the dummy batch: `steps` SGD steps of rate `η` from the model,
  /// recorded, read back as one mean gradient `(w₀ − w_s) / (η · steps)`, as the adversary reads
  /// the shared update. Each replayed step uses the whole dummy batch.
  private func replayed(_ local: LocalSteps, _ x: Tensor, _ targets: Tensor) -> [Tensor] {
    let start = model.parameters
    var weights = start
    for _ in 0..<local.steps {
      let g = gradient(model.withParameters(weights), x, targets)
      weights = zip(weights, g).map { $0 - $1 * local.learningRate }
    }
    let scale = 1 / (local.learningRate * Float(local.steps))
    return zip(start, weights).map { ($0 - $1) * scale }
  }
}

/// The local training behind a FedAvg update, for an attack to replay: SGD steps and their rate.
public struct LocalSteps: Sendable, Codable, Equatable {
  public var steps: Int
  public var learningRate: Float

  public init(steps: Int, learningRate: Float) {
    precondition(steps >= 1 && learningRate > 0, "local steps need a step and a positive rate")
    (self.steps, self.learningRate) = (steps, learningRate)
  }
}

/// The anisotropic total variation of an image batch `[N, C, H, W]` as Inverting Gradients
/// defines it: the mean absolute difference between horizontal neighbours plus that between
/// vertical neighbours.
public func totalVariation(_ x: Tensor) -> Tensor {
  let (h, w) = (x.shape[2], x.shape[3])
  let dx = x.sliced(alongAxis: 3, 1..<w) - x.sliced(alongAxis: 3, 0..<(w - 1))
  let dy = x.sliced(alongAxis: 2, 1..<h) - x.sliced(alongAxis: 2, 0..<(h - 1))
  return dx.abs().mean() + dy.abs().mean()
}
