import Tensors

/// The bookkeeping every start shares: evaluation counts, the best point, the history, progress.
struct AttackSession {
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

  /// Fresh dummy images, as the configuration (or the batch size) says they start.
  func drawImages(_ c: AttackConfiguration, generator: inout SeededGenerator) -> [Float] {
    (c.initialization ?? .automatic(batch: batch)).draw(inputShape, range: c.pixelRange, using: &generator)
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
    var point = given ?? drawImages(c, generator: &generator)
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
    var point = given ?? drawImages(c, generator: &generator)
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
