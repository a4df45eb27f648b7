import Tensors

/// The objective every optimisation-based gradient-inversion attack minimises: the distance
/// between the gradient a dummy input and label would produce and the gradient a client shared.
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

  public init(model: Model, sharedGradient: [Tensor], distance: GradientDistance = .l2) {
    self.model = model.requiringGradients()
    self.sharedGradient = sharedGradient.map { $0.detached() }
    self.distance = distance
  }

  /// The distance and its gradients with respect to the dummy input and, when the label is not
  /// known, the dummy label logits (the dummy label is their softmax).
  public func evaluate(input: Tensor, labelLogits: Tensor?, knownLabels: Tensor? = nil)
    -> (value: Float, inputGradient: Tensor, labelGradient: Tensor?)
  {
    let x = input.requiringGradient()
    let y = labelLogits?.requiringGradient()
    let targets = knownLabels ?? softmax(y!, alongAxis: -1)
    let loss = softCrossEntropy(logits: model(x), targets: targets)
    let dummyGradient = gradients(of: loss, wrt: model.parameters, createGraph: true)
    let d = distance(dummyGradient, sharedGradient)
    let g = gradients(of: d, wrt: y.map { [x, $0] } ?? [x])
    return (d.scalar, g[0], y == nil ? nil : g[1])
  }
}

/// The gradient of the loss with respect to every parameter: what a FedSGD client shares.
public func sharedGradient<Model: Layer>(model: Model, input: Tensor, targets: Tensor) -> [Tensor] {
  let m = model.requiringGradients()
  let loss = softCrossEntropy(logits: m(input), targets: targets)
  return gradients(of: loss, wrt: m.parameters)
}
