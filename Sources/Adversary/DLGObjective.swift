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
  private let sortedShared: [Tensor]?

  public init(
    model: Model, sharedGradient: [Tensor], distance: GradientDistance = .l2,
    totalVariation: Float = 0
  ) {
    self.model = model.requiringGradients()
    self.sharedGradient = sharedGradient.map { $0.detached() }
    self.distance = distance
    self.totalVariation = totalVariation
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
    let loss = softCrossEntropy(logits: model(x), targets: targets)
    let dummyGradient = gradients(of: loss, wrt: model.parameters, createGraph: true)
    var d = distance(dummyGradient, sharedGradient, sortedTarget: sortedShared)
    if totalVariation > 0 { d = d + totalVariation * Adversary.totalVariation(x) }
    let g = gradients(of: d, wrt: y.map { [x, $0] } ?? [x])
    return (d.scalar, g[0], y == nil ? nil : g[1])
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
