import Tensors

/// The gradient-inversion attacks FedSim runs. Each recovers a batch of private images (and
/// labels) from one shared gradient; `docs/attacks.md` describes them.
public enum AttackMethod: String, Sendable, Codable, CaseIterable {
  /// Deep Leakage from Gradients (Zhu et al. 2019): image and soft label optimised jointly by
  /// L-BFGS on the squared gradient distance.
  case dlg
  /// Improved DLG (Zhao et al. 2020): labels read off the last layer first, then DLG on the image.
  case idlg
  /// Wasserstein DLG (Wang et al. 2023): labels first, then L-BFGS on a Wasserstein distance.
  case wdlg
  /// Inverting Gradients (Geiping et al. 2020): cosine distance plus total variation, signed
  /// Adam with a step learning-rate schedule, pixels boxed to the valid range.
  case ig
  /// R-GAP (Zhu and Blaschko 2021): closed-form recursive inversion, layer by layer from the
  /// output down, by least squares; no optimisation (batch 1, chains of convolutions, linear
  /// layers and invertible activations).
  case rgap

  /// The gradient distance the method minimises.
  public var distance: GradientDistance {
    switch self {
    case .dlg, .idlg, .rgap: .l2
    case .wdlg: .wasserstein
    case .ig: .cosine
    }
  }

  /// Whether the labels are read off the gradient before optimising (all but DLG).
  public var recoversLabelsFirst: Bool { self != .dlg }

  /// Iterations by default: 300 L-BFGS steps (DLG's setting), 4,800 Adam steps for Inverting
  /// Gradients (its CIFAR setting), none for R-GAP.
  public var defaultIterations: Int {
    switch self {
    case .ig: 4800
    case .rgap: 0
    default: 300
    }
  }

  /// Whether the method optimises (all but R-GAP, which solves in closed form).
  public var optimises: Bool { self != .rgap }

  /// The learning rate by default: 1 for L-BFGS (DLG's), 0.1 for signed Adam (IG's).
  public var defaultLearningRate: Float { self == .ig ? 0.1 : 1 }
}

/// How to run one attack.
public struct AttackConfiguration: Sendable, Codable, Equatable {
  public var method: AttackMethod
  /// L-BFGS steps (each up to 20 inner iterations) for the DLG family, Adam steps for IG.
  public var iterations: Int
  /// The most independent starts from fresh random dummies; the one ending nearest the shared
  /// gradient is kept (the attacker has no ground truth to choose by). No further start is
  /// drawn once one has converged.
  public var restarts: Int
  /// A start has converged when its distance falls to this fraction of its starting distance.
  /// DLG's successes end near 1e-8 of where they began and its failures stall above 1e-4
  /// (CIFAR-100, LeNet), so the default sits between.
  public var convergedFraction: Double
  public var seed: UInt64
  public var learningRate: Float
  /// The total-variation weight (Inverting Gradients only).
  public var totalVariation: Float
  /// The valid pixel range, where Inverting Gradients boxes its image.
  public var pixelRange: ClosedRange<Float>
  /// FedAvg: the local steps to replay on the dummy batch (nil: the update is read as one gradient).
  public var localSteps: LocalSteps?
  /// How the dummy images start (nil: `DummyInitialization.automatic(batch:)`).
  public var initialization: DummyInitialization?
  /// The gradient distance to minimise (nil: the method's own, `AttackMethod.distance`).
  public var distance: GradientDistance?

  public init(
    method: AttackMethod = .dlg, iterations: Int? = nil, restarts: Int = 1, seed: UInt64 = 0,
    learningRate: Float? = nil, totalVariation: Float = 1e-2, pixelRange: ClosedRange<Float> = 0...1,
    convergedFraction: Double = 1e-6, localSteps: LocalSteps? = nil, initialization: DummyInitialization? = nil,
    distance: GradientDistance? = nil
  ) {
    precondition(restarts >= 1, "an attack needs at least one start")
    self.method = method
    self.iterations = iterations ?? method.defaultIterations
    self.restarts = restarts
    self.seed = seed
    self.learningRate = learningRate ?? method.defaultLearningRate
    self.totalVariation = totalVariation
    self.pixelRange = pixelRange
    self.convergedFraction = convergedFraction
    self.localSteps = localSteps
    self.initialization = initialization
    self.distance = distance
  }
}

/// How an attack's dummy images start.
public enum DummyInitialization: String, Sendable, Codable, CaseIterable {
  /// Standard normal pixels, as DLG's and iDLG's code draws them (`torch.randn`).
  case normal
  /// Uniform over the valid pixel range (`torch.rand` for images in [0, 1]). At batch 2 and
  /// above the normal start stalls with the gradient distance near 1e-2 where this one goes on
  /// to 1e-5 (docs/attacks.md).
  case uniform
  /// R-GAP's closed-form reconstruction, with R-GAP's labels as the known labels (every method,
  /// DLG too): the optimisation then polishes what the closed form leaves noisy. Only the first
  /// start; further ones draw as `automatic(batch:)`. R-GAP's conditions apply.
  case rgap

  /// The start an attack uses when none is asked for: DLG's normal one for a single image,
  /// where it recovers more often, and the uniform one for a batch.
  public static func automatic(batch: Int) -> DummyInitialization { batch > 1 ? .uniform : .normal }

  /// Starting values for dummy pixels of `shape` whose valid range is `range`.
  func draw(_ shape: [Int], range: ClosedRange<Float>, using generator: inout SeededGenerator) -> [Float] {
    switch self {
    case .normal: return Tensor.normal(shape, using: &generator).scalars
    case .uniform:
      return Tensor.uniform(shape, low: range.lowerBound, high: range.upperBound, using: &generator).scalars
    case .rgap: return Self.automatic(batch: shape[0]).draw(shape, range: range, using: &generator)
    }
  }
}

/// What an attack reports after each iteration: the state whose distance it has just measured.
public struct AttackProgress: Sendable {
  /// Which start (0-based) this is.
  public var trial: Int
  /// Iterations completed in this start (0: the random dummy).
  public var iteration: Int
  /// The gradient distance (the method's own objective) at this point.
  public var distance: Double
  /// Evaluations of the objective so far, over all starts.
  public var evaluations: Int
  /// Seconds since the attack began.
  public var elapsed: Double
  /// The current dummy images `[B, C, H, W]`.
  public var reconstruction: Tensor
  /// The current labels (recovered, or the dummy label's arg-max for DLG).
  public var labels: [Int]
}

/// The outcome of an attack: the best point of the best start.
public struct AttackResult: Sendable {
  public var method: AttackMethod
  public var reconstruction: Tensor
  public var labels: [Int]
  /// The objective at the kept point.
  public var distance: Double
  /// The kept start's objective after each iteration (index 0: the random dummy). Non-finite
  /// entries mark points where the optimiser diverged.
  public var history: [Double]
  public var iterations: Int
  /// Evaluations of the objective over all starts.
  public var evaluations: Int
  public var wallSeconds: Double
  public var keptTrial: Int
  /// How many starts ran.
  public var starts: Int
  /// How often the optimiser diverged or stalled and was restarted from its best point, over
  /// all starts.
  public var recoveries: Int
  /// R-GAP's report on each layer it solved, from the input up (empty for other methods).
  public var layers: [RGAPLayerReport] = []
}

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
    var session = Session(
      inputShape: inputShape, classes: classes, knownLabels: knownLabels,
      elapsed: { start.duration(to: clock.now).seconds },
      progress: progress)
    var kept: Session.Trial?
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

/// The bookkeeping every start shares: evaluation counts, the best point, the history, progress.
private struct Session {
  struct Trial {
    var trial: Int
    var best: [Float] = []
    var bestValue = Double.infinity
    var history: [Double] = []
  }

  let inputShape: [Int]
  let classes: Int
  let knownLabels: [Int]?
  let elapsed: () -> Double
  let progress: (AttackProgress) -> Void
  var evaluations = 0
  var recoveries = 0

  init(
    inputShape: [Int], classes: Int, knownLabels: [Int]?, elapsed: @escaping () -> Double,
    progress: @escaping (AttackProgress) -> Void
  ) {
    (self.inputShape, self.classes, self.knownLabels, self.elapsed, self.progress) =
      (inputShape, classes, knownLabels, elapsed, progress)
  }

  var imageCount: Int { inputShape.reduce(1, *) }
  var batch: Int { inputShape[0] }

  /// The labels at a point: the recovered ones, or each dummy label's arg-max.
  func labels(of point: [Float]) -> [Int] {
    if let knownLabels { return knownLabels }
    return (0..<batch).map { b in
      let row = point[(imageCount + b * classes)..<(imageCount + (b + 1) * classes)]
      return row.indices.max { row[$0] < row[$1] }! - (imageCount + b * classes)
    }
  }

  /// The objective's value and gradient at `point` (image, then label logits for DLG).
  mutating func evaluate<M: Layer>(_ objective: DLGObjective<M>, _ point: [Float]) -> (value: Double, gradient: [Float]) {
    evaluations += 1
    let x = Tensor(shape: inputShape, scalars: Array(point.prefix(imageCount)))
    let logits = knownLabels == nil ? Tensor(shape: [batch, classes], scalars: Array(point[imageCount...])) : nil
    let targets = knownLabels.map { oneHot($0, classes: classes) }
    let r = objective.evaluate(input: x, labelLogits: logits, knownLabels: targets)
    var gradient = r.inputGradient.scalars
    if let g = r.labelGradient { gradient += g.scalars }
    return (Double(r.value), gradient)
  }

  /// Records the distance at the point reached after `iteration` iterations. Returns false when
  /// the optimiser has diverged there: a non-finite value or point, or a value a thousand times
  /// the starting one.
  mutating func record(_ t: inout Trial, iteration: Int, point: [Float], value: Double) -> Bool {
    t.history.append(value)
    let healthy =
      value.isFinite && value <= 1000 * Swift.max(t.history[0], 1e-30)
      && point.allSatisfy { $0.isFinite }
    if healthy && value < t.bestValue { (t.bestValue, t.best) = (value, point) }
    progress(
      AttackProgress(
        trial: t.trial, iteration: iteration, distance: value, evaluations: evaluations,
        elapsed: elapsed(), reconstruction: Tensor(shape: inputShape, scalars: Array(point.prefix(imageCount))),
        labels: healthy ? labels(of: point) : labels(of: t.best.isEmpty ? point : t.best)))
    return healthy
  }

  /// Counts a recovery and moves `point` back to the start's best point (if it has one).
  mutating func restoreBest(_ t: Trial, into point: inout [Float]) {
    recoveries += 1
    if !t.best.isEmpty { point = t.best }
  }

  /// The DLG family: L-BFGS (history 100, 20 inner iterations, no line search) on the image and,
  /// for DLG, the label logits. When it diverges, or a step stalls (no descent direction left,
  /// so the point does not move), it restarts from its best point with a fresh curvature
  /// history and half the learning rate.
  mutating func lbfgs<M: Layer>(
    _ objective: DLGObjective<M>, _ c: AttackConfiguration, trial: Int, from given: [Float]?,
    generator: inout SeededGenerator
  ) -> Trial {
    var t = Trial(trial: trial)
    var point = given ?? (c.initialization ?? .automatic(batch: batch)).draw(inputShape, range: c.pixelRange, using: &generator)
    if knownLabels == nil { point += Tensor.normal([batch, classes], using: &generator).scalars }
    t.best = point  // kept, with an infinite distance, should no point ever be healthy
    // A given start may already be near the optimum, where L-BFGS's fixed tolerances (1e-7 on
    // the gradient) stop it at once: the objective is scaled to 1 there. Drawn starts keep DLG's.
    let scale = given == nil ? 1 : 1 / Swift.max(evaluate(objective, point).value, 1e-30)
    var optimizer = LBFGS(learningRate: c.learningRate, maxIterations: 20, historySize: 100)
    for iteration in 0..<c.iterations {
      var first = true
      var healthy = true
      let before = point
      optimizer.step(&point) { p in
        let r = evaluate(objective, p)
        if first {
          first = false
          healthy = record(&t, iteration: iteration, point: p, value: r.value)
        }
        return scale == 1 ? r : (r.value * scale, r.gradient.map { $0 * Float(scale) })
      }
      // Diverged, or stalled: the curvature history no longer gives a descent direction, so
      // the point did not move (PyTorch's L-BFGS would stay put for every remaining step).
      if !healthy || !point.allSatisfy({ $0.isFinite }) || point == before {
        restoreBest(t, into: &point)
        optimizer = LBFGS(learningRate: optimizer.learningRate / 2, maxIterations: 20, historySize: 100)
      }
    }
    let r = evaluate(objective, point)
    _ = record(&t, iteration: c.iterations, point: point, value: r.value)
    return t
  }

  /// Inverting Gradients: Adam on the sign of the gradient, the learning rate cut tenfold at
  /// 3/8, 5/8 and 7/8 of the iterations, pixels clamped to the valid range after every step.
  mutating func signedAdam<M: Layer>(
    _ objective: DLGObjective<M>, _ c: AttackConfiguration, trial: Int, from given: [Float]?,
    generator: inout SeededGenerator
  ) -> Trial {
    var t = Trial(trial: trial)
    var point = given ?? (c.initialization ?? .automatic(batch: batch)).draw(inputShape, range: c.pixelRange, using: &generator)
    t.best = point  // kept, with an infinite distance, should no point ever be healthy
    var optimizer = Adam(learningRate: c.learningRate)
    let milestones = Set([3, 5, 7].map { c.iterations * $0 / 8 })
    for iteration in 0..<c.iterations {
      if milestones.contains(iteration) { optimizer.learningRate *= 0.1 }
      let r = evaluate(objective, point)
      guard record(&t, iteration: iteration, point: point, value: r.value) else {
        restoreBest(t, into: &point)
        optimizer = Adam(learningRate: optimizer.learningRate / 2)
        continue
      }
      optimizer.step(&point, gradient: r.gradient.map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) })
      for i in point.indices { point[i] = Swift.min(Swift.max(point[i], c.pixelRange.lowerBound), c.pixelRange.upperBound) }
    }
    let r = evaluate(objective, point)
    _ = record(&t, iteration: c.iterations, point: point, value: r.value)
    return t
  }
}

extension Duration {
  /// The duration in seconds, as attack results report it.
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
