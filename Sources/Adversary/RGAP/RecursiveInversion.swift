import Tensors

/// R-GAP, the recursive gradient attack (Zhu and Blaschko, ICLR 2021): no optimisation, a
/// closed-form inversion layer by layer from the output down.
///
/// The last linear layer gives its input and `k = ∂L/∂logits` in closed form
/// (`LastLayerInversion`). Below it, each step undoes an activation (`z = σ⁻¹(a)`,
/// `∂L/∂z = (Wᵀk) ⊙ σ'(z)`) and then solves the layer underneath for its input from two sets of
/// linear equations: the weight constraints (the layer applied to its input gives `z`) and the
/// gradient constraints (the shared weight gradient is `k` correlated with the input). Each
/// system is solved by least squares (normal equations, LAPACK's pivoted Cholesky `dpstrf`), and its rank against its unknowns is
/// reported: below full rank the layer's input is not determined by what was shared.
/// `docs/attacks.md` gives the mathematics.
public struct RecursiveInversion: Sendable {
  public let model: AnyModel
  public let sharedGradient: [Tensor]
  /// `[1, C, H, W]`.
  public let inputShape: [Int]
  public let classes: Int
  /// Singular values below about this fraction of the largest count as zero in every layer's
  /// solve (the shared gradient is single precision).
  public var relativeCutoff: Double = 1e-6

  public init(model: any Layer, sharedGradient: [Tensor], inputShape: [Int], classes: Int) {
    precondition(inputShape.count == 4, "inputShape is [batch, channels, height, width]")
    (self.model, self.sharedGradient, self.inputShape, self.classes) =
      (model as? AnyModel ?? AnyModel(model), sharedGradient, inputShape, classes)
  }

  /// The reconstruction, with a report per layer, or why R-GAP cannot run on this model. A
  /// batch is inverted jointly, its images told apart by their (distinct) labels.
  public func run(progress: (AttackProgress) -> Void = { _ in }) throws(RGAPError) -> AttackResult {
    let clock = ContinuousClock()
    let start = clock.now
    let batch = inputShape[0]
    let steps = try InvertibleChain.steps(of: model, imageShape: Array(inputShape.dropFirst()), gradient: sharedGradient)
    guard let topIndex = steps.lastIndex(where: { if case .linear = $0 { true } else { false } }),
      case .linear(let top) = steps[topIndex], top.input[1] == 1, top.input[2] == 1,
      steps[(topIndex + 1)...].allSatisfy({ if case .flatten = $0 { true } else { false } })
    else { throw .noFinalLinearLayer }
    // A batch is solved iteratively, with no matrix; one image's dense system has a size limit.
    if batch == 1 { for case .linear(let stage) in steps[..<topIndex] { try stage.checkSize() } }
    let last = try lastLayer(top, batch: batch)
    var reports = [last.report]
    var (x, k, above) = (last.inputs, last.outputGradients, top)
    var pending: (z: [[Double]], k: [[Double]], saturated: Int)?
    for step in steps[..<topIndex].reversed() {
      switch step {
      case .flatten: continue
      case .activation(_, let activation):
        let inverted = x.map(activation.inverted)
        pending = (
          inverted.map(\.z), zip(k, inverted).map { zip(above.inputGradient($0), $1.slope).map(*) },
          x.reduce(0) { $0 + activation.saturatedCount($1) }
        )
      case .linear(let stage):
        let (z, kz, saturated) = pending ?? (x, k.map(above.inputGradient), 0)
        var solved = try stage.invert(outputs: z, outputGradients: kz, relativeCutoff: relativeCutoff)
        solved.report.saturated = saturated > 0 ? saturated : nil
        reports.append(solved.report)
        (x, k, above, pending) = (solved.inputs, kz, stage, nil)
      }
    }
    let image = Tensor(shape: inputShape, scalars: (pending?.z ?? x).flatMap { $0.map(Float.init) })
    let distance = gradientDistance(at: image, labels: last.labels)
    let seconds = start.duration(to: clock.now).seconds
    progress(
      AttackProgress(
        trial: 0, iteration: 0, distance: distance, evaluations: 1, elapsed: seconds, reconstruction: image,
        labels: last.labels))
    return AttackResult(
      method: .rgap, reconstruction: image, labels: last.labels, distance: distance, history: [distance],
      iterations: 0, evaluations: 1, wallSeconds: seconds, keptTrial: 0, starts: 1, recoveries: 0,
      layers: reports.reversed())
  }

  /// The last layer's inputs and output gradients, image by image: in closed form for one
  /// image, by alternation for a batch whose labels are read off the gradient first.
  private func lastLayer(_ top: LinearStage, batch: Int) throws(RGAPError) -> (inputs: [[Double]], outputGradients: [[Double]], labels: [Int], report: RGAPLayerReport) {
    if batch == 1 {
      let s = try LastLayerInversion.invert(top)
      return ([s.input], [s.outputGradient], [s.label], s.report)
    }
    let mean = LabelRecovery.meanPrediction(of: model, imageShape: Array(inputShape.dropFirst()))
    let counted = LabelRecovery.labels(sharedGradient: sharedGradient, classes: classes, batch: batch, meanPrediction: mean)
    let s = try BatchLastLayerInversion.invert(top, labels: counted, meanPrediction: mean)
    return (s.inputs, s.outputGradients, s.labels, s.report)
  }

  /// DLG's distance between the gradient the reconstruction produces and the shared one.
  private func gradientDistance(at image: Tensor, labels: [Int]) -> Double {
    let m = model.requiringGradients()
    let loss = softCrossEntropy(logits: m(image), targets: oneHot(labels, classes: classes))
    let g = gradients(of: loss, wrt: m.parameters)
    return Double(GradientDistance.l2(g, sharedGradient).scalar)
  }
}
