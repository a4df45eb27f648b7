/// Cross-entropy against soft targets: the batch mean of `Σ −p · log_softmax(logits)` over
/// classes (DLG's loss; with one-hot targets it is ordinary cross-entropy).
public func softCrossEntropy(logits: Tensor, targets: Tensor) -> Tensor {
  precondition(logits.shape == targets.shape, "logits \(logits.shape) ≠ targets \(targets.shape)")
  return (-(targets * logSoftmax(logits, alongAxis: -1))).sum(alongAxis: -1).mean()
}

/// Cross-entropy against class indices, averaged over the batch.
public func crossEntropy(logits: Tensor, labels: [Int]) -> Tensor {
  softCrossEntropy(logits: logits, targets: oneHot(labels, classes: logits.shape[logits.rank - 1]))
}

/// Mean squared error.
public func meanSquaredError(_ a: Tensor, _ b: Tensor) -> Tensor {
  (a - b).pow(2).mean()
}

/// One-hot rows for `labels`.
public func oneHot(_ labels: [Int], classes: Int) -> Tensor {
  var m = [Float](repeating: 0, count: labels.count * classes)
  for (i, l) in labels.enumerated() {
    precondition(l >= 0 && l < classes, "label \(l) out of range 0..<\(classes)")
    m[i * classes + l] = 1
  }
  return Tensor(shape: [labels.count, classes], scalars: m)
}

/// The gradient of the loss with respect to every parameter: what a FedSGD client shares.
public func sharedGradient<Model: Layer>(model: Model, input: Tensor, targets: Tensor) -> [Tensor] {
  let m = model.requiringGradients()
  let loss = softCrossEntropy(logits: m(input), targets: targets)
  return gradients(of: loss, wrt: m.parameters)
}
