import Tensors

/// A gradient-inversion attack on one shared gradient of a known model.
public struct GradientInversion<Model: Layer>: Sendable {
  public let model: Model
  public let sharedGradient: [Tensor]
  /// The shape of the private batch `[B, C, H, W]`.
  public let inputShape: [Int]
  public let classes: Int

  public init(model: Model, sharedGradient: [Tensor], inputShape: [Int], classes: Int) {
    precondition(inputShape.count == 4, "inputShape is [batch, channels, height, width]")
    (self.model, self.sharedGradient, self.inputShape, self.classes) =
      (model, sharedGradient, inputShape, classes)
  }

  /// Runs the attack, whichever the method, calling `progress` after every iteration of every
  /// start; only R-GAP can refuse (a model or batch outside its conditions).
  public func attack(
    _ configuration: AttackConfiguration, progress: (AttackProgress) -> Void = { _ in }
  ) throws(RGAPError) -> AttackResult {
    let closedForm = RecursiveInversion(model: model, sharedGradient: sharedGradient, inputShape: inputShape, classes: classes)
    guard configuration.method.optimises else { return try closedForm.run(progress: progress) }
    guard configuration.initialization == .rgap else { return run(configuration, progress: progress) }
    let solved = try closedForm.run()
    let start = Start(images: solved.reconstruction.scalars, labels: solved.labels, seconds: solved.wallSeconds)
    return withoutActuallyEscaping(progress) { run(configuration, from: start, $0) }
  }

  /// Where the first start begins when it is not drawn: R-GAP's images and labels.
  private struct Start {
    var images: [Float]
    var labels: [Int]
    /// The time it took to find, counted in the attack's.
    var seconds: Double
  }

  /// Runs an optimisation attack, calling `progress` after every iteration of every start.
  public func run(
    _ configuration: AttackConfiguration, progress: (AttackProgress) -> Void = { _ in }
  ) -> AttackResult {
    precondition(configuration.method.optimises, "R-GAP runs through attack(_:progress:)")
    precondition(configuration.initialization != .rgap, "an R-GAP start runs through attack(_:progress:)")
    return withoutActuallyEscaping(progress) { run(configuration, from: nil, $0) }
  }

  private func run(_ c: AttackConfiguration, from given: Start?, _ progress: @escaping (AttackProgress) -> Void) -> AttackResult {
    let clock = ContinuousClock()
    let start = clock.now - .seconds(given?.seconds ?? 0)
    let objective = DLGObjective(
      model: model, sharedGradient: sharedGradient, distance: c.distance ?? c.method.distance,
      totalVariation: c.method == .ig ? c.totalVariation : 0, localSteps: c.localSteps)
    let batch = inputShape[0]
    let knownLabels =
      given?.labels
      ?? (c.method.recoversLabelsFirst
      ? LabelRecovery.labels(
        sharedGradient: sharedGradient, classes: classes, batch: batch,
        meanPrediction: batch > 1
          ? LabelRecovery.meanPrediction(of: model, imageShape: Array(inputShape.dropFirst())) : nil)
      : nil)
    var session = AttackSession(
      inputShape: inputShape, classes: classes, knownLabels: knownLabels,
      elapsed: { start.duration(to: clock.now).seconds },
      progress: progress)
    var kept: AttackSession.Trial?
    var starts = 0
    for trial in 0..<c.restarts {
      starts += 1
      var generator = SeededGenerator(seed: c.seed &+ UInt64(trial) &* 0x9E37_79B9_7F4A_7C15)
      let result =
        c.method == .ig
        ? session.signedAdam(objective, c, trial: trial, from: trial == 0 ? given?.images : nil, generator: &generator)
        : session.lbfgs(objective, c, trial: trial, from: trial == 0 ? given?.images : nil, generator: &generator)
      if kept == nil || result.bestValue < kept!.bestValue { kept = result }
      if result.bestValue <= c.convergedFraction * result.history[0] { break }
    }
    let best = kept!
    return AttackResult(
      method: c.method, reconstruction: Tensor(shape: inputShape, scalars: Array(best.best.prefix(session.imageCount))),
      labels: session.labels(of: best.best), distance: best.bestValue, history: best.history,
      iterations: c.iterations, evaluations: session.evaluations, wallSeconds: session.elapsed(),
      keptTrial: best.trial, starts: starts, recoveries: session.recoveries)
  }
}
