/// L-BFGS with the semantics of `torch.optim.LBFGS`.
///
/// Each `step` runs up to `maxIterations` quasi-Newton iterations (and at most `maxEvaluations`
/// evaluations of the objective), keeping the direction, step length and curvature history
/// between steps, exactly as PyTorch keeps them in its optimizer state. Without a line search
/// each iteration moves by `learningRate` along the direction (the very first by
/// `min(1, 1/‖g‖₁)·lr`), which is what DLG uses; with `.strongWolfe` it searches as PyTorch's
/// `_strong_wolfe` does.
public struct LBFGS: Sendable {
  public enum LineSearch: String, Sendable, Codable { case strongWolfe = "strong_wolfe" }

  /// What an objective returns at a point: its value and gradient.
  public typealias Objective = ([Float]) -> (value: Double, gradient: [Float])

  public var learningRate: Float
  public var maxIterations: Int
  public var maxEvaluations: Int
  public var toleranceGrad: Float
  public var toleranceChange: Float
  public var historySize: Int
  public var lineSearch: LineSearch?

  /// The total number of objective evaluations so far.
  public private(set) var evaluations = 0
  /// The total number of iterations so far.
  public private(set) var iterations = 0

  private var direction: [Float] = []
  private var stepLength: Float = 0
  private var oldDirections: [[Float]] = []  // y: gradient differences
  private var oldSteps: [[Float]] = []  // s: steps
  private var rho: [Double] = []
  private var hessianDiagonal: Double = 1
  private var previousGradient: [Float]?
  private var previousLoss: Double = 0

  public init(
    learningRate: Float = 1, maxIterations: Int = 20, maxEvaluations: Int? = nil,
    toleranceGrad: Float = 1e-7, toleranceChange: Float = 1e-9, historySize: Int = 100,
    lineSearch: LineSearch? = nil
  ) {
    self.learningRate = learningRate
    self.maxIterations = maxIterations
    self.maxEvaluations = maxEvaluations ?? maxIterations * 5 / 4
    self.toleranceGrad = toleranceGrad
    self.toleranceChange = toleranceChange
    self.historySize = historySize
    self.lineSearch = lineSearch
  }

  /// One optimizer step from `x`, which it updates. Returns the objective's value at the
  /// starting point, as PyTorch's `step(closure)` does.
  @discardableResult
  public mutating func step(_ x: inout [Float], _ objective: Objective) -> Double {
    let (origLoss, g0) = objective(x)
    var loss = origLoss
    var flatGrad = g0
    var currentEvals = 1
    evaluations += 1
    if FlatVector.maxAbs(flatGrad) <= toleranceGrad { return origLoss }

    var n = 0
    while n < maxIterations {
      n += 1
      iterations += 1
      if iterations == 1 {
        direction = flatGrad.map { -$0 }
        oldDirections = []
        oldSteps = []
        rho = []
        hessianDiagonal = 1
      } else {
        updateDirection(gradient: flatGrad)
      }
      previousGradient = flatGrad
      previousLoss = loss

      if iterations == 1 {
        stepLength = Float(Swift.min(1, 1 / FlatVector.sumAbs(flatGrad))) * learningRate
      } else {
        stepLength = learningRate
      }
      let gtd = FlatVector.dot(flatGrad, direction)
      if gtd > -Double(toleranceChange) { break }

      var lsEvals = 0
      var optimal = false
      if lineSearch == .strongWolfe {
        let start = x
        let result = StrongWolfe.search(
          objective, start: start, step: Double(stepLength), direction: direction, value: loss,
          gradient: flatGrad, gtd: gtd, toleranceChange: Double(toleranceChange))
        (loss, flatGrad, lsEvals) = (result.value, result.gradient, result.evaluations)
        stepLength = Float(result.step)
        x = start
        FlatVector.axpy(stepLength, direction, &x)
        optimal = FlatVector.maxAbs(flatGrad) <= toleranceGrad
      } else {
        FlatVector.axpy(stepLength, direction, &x)
        if n != maxIterations {
          (loss, flatGrad) = objective(x)
          optimal = FlatVector.maxAbs(flatGrad) <= toleranceGrad
          lsEvals = 1
        }
      }
      currentEvals += lsEvals
      evaluations += lsEvals

      if n == maxIterations || currentEvals >= maxEvaluations || optimal { break }
      if FlatVector.maxAbs(direction) * Swift.abs(stepLength) <= toleranceChange { break }
      if Swift.abs(loss - previousLoss) < Double(toleranceChange) { break }
    }
    return origLoss
  }

  /// The two-loop recursion: the new direction from the curvature history.
  private mutating func updateDirection(gradient: [Float]) {
    guard let prev = previousGradient else { return }
    var y = gradient
    for i in y.indices { y[i] -= prev[i] }
    let s = direction.map { $0 * stepLength }
    let ys = FlatVector.dot(y, s)
    if ys > 1e-10 {
      if oldDirections.count == historySize {
        oldDirections.removeFirst()
        oldSteps.removeFirst()
        rho.removeFirst()
      }
      oldDirections.append(y)
      oldSteps.append(s)
      rho.append(1 / ys)
      hessianDiagonal = ys / FlatVector.dot(y, y)
    }
    let count = oldDirections.count
    var alpha = [Double](repeating: 0, count: count)
    var q = gradient.map { -$0 }
    for i in stride(from: count - 1, through: 0, by: -1) {
      alpha[i] = FlatVector.dot(oldSteps[i], q) * rho[i]
      FlatVector.axpy(Float(-alpha[i]), oldDirections[i], &q)
    }
    let h = Float(hessianDiagonal)
    var r = q.map { $0 * h }
    for i in 0..<count {
      let beta = FlatVector.dot(oldDirections[i], r) * rho[i]
      FlatVector.axpy(Float(alpha[i] - beta), oldSteps[i], &r)
    }
    direction = r
  }
}

/// PyTorch's `_strong_wolfe` line search with `_cubic_interpolate`.
enum StrongWolfe {
  struct Result {
    var value: Double
    var gradient: [Float]
    var step: Double
    var evaluations: Int
  }

  static func cubicInterpolate(
    _ x1: Double, _ f1: Double, _ g1: Double, _ x2: Double, _ f2: Double, _ g2: Double,
    bounds: (Double, Double)? = nil
  ) -> Double {
    let (lo, hi) = bounds ?? (x1 <= x2 ? (x1, x2) : (x2, x1))
    let d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    let d2Square = d1 * d1 - g1 * g2
    guard d2Square >= 0 else { return (lo + hi) / 2 }
    let d2 = d2Square.squareRoot()
    let minPos =
      x1 <= x2
      ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
      : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return Swift.min(Swift.max(minPos, lo), hi)
  }

  static func search(
    _ objective: LBFGS.Objective, start x: [Float], step t0: Double, direction d: [Float],
    value f: Double, gradient g: [Float], gtd: Double, c1: Double = 1e-4, c2: Double = 0.9,
    toleranceChange: Double = 1e-9, maxSearches: Int = 25
  ) -> Result {
    func evaluate(_ t: Double) -> (Double, [Float], Double) {
      var p = x
      FlatVector.axpy(Float(t), d, &p)
      let (v, grad) = objective(p)
      return (v, grad, FlatVector.dot(grad, d))
    }
    let dNorm = Double(FlatVector.maxAbs(d))
    var t = t0
    var (fNew, gNew, gtdNew) = evaluate(t)
    var evals = 1
    var (tPrev, fPrev, gPrev, gtdPrev) = (0.0, f, g, gtd)
    var done = false
    var lsIter = 0
    var bracket: [Double] = []
    var bracketF: [Double] = []
    var bracketG: [[Float]] = []
    var bracketGtd: [Double] = []

    while lsIter < maxSearches {
      if fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev) {
        (bracket, bracketF, bracketG, bracketGtd) = ([tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew])
        break
      }
      if Swift.abs(gtdNew) <= -c2 * gtd {
        (bracket, bracketF, bracketG) = ([t], [fNew], [gNew])
        done = true
        break
      }
      if gtdNew >= 0 {
        (bracket, bracketF, bracketG, bracketGtd) = ([tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew])
        break
      }
      let minStep = t + 0.01 * (t - tPrev)
      let maxStep = t * 10
      let previous = t
      t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, bounds: (minStep, maxStep))
      (tPrev, fPrev, gPrev, gtdPrev) = (previous, fNew, gNew, gtdNew)
      (fNew, gNew, gtdNew) = evaluate(t)
      evals += 1
      lsIter += 1
    }
    if lsIter == maxSearches {
      (bracket, bracketF, bracketG) = ([0, t], [f, fNew], [g, gNew])
    }

    // Zoom.
    var insufficientProgress = false
    var (low, high) = bracketF[0] <= bracketF[bracketF.count - 1] ? (0, 1) : (1, 0)
    while !done && lsIter < maxSearches {
      if Swift.abs(bracket[1] - bracket[0]) * dNorm < toleranceChange { break }
      t = cubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1])
      let (bMax, bMin) = (Swift.max(bracket[0], bracket[1]), Swift.min(bracket[0], bracket[1]))
      let eps = 0.1 * (bMax - bMin)
      if Swift.min(bMax - t, t - bMin) < eps {
        if insufficientProgress || t >= bMax || t <= bMin {
          t = Swift.abs(t - bMax) < Swift.abs(t - bMin) ? bMax - eps : bMin + eps
          insufficientProgress = false
        } else {
          insufficientProgress = true
        }
      } else {
        insufficientProgress = false
      }
      (fNew, gNew, gtdNew) = evaluate(t)
      evals += 1
      lsIter += 1
      if fNew > f + c1 * t * gtd || fNew >= bracketF[low] {
        (bracket[high], bracketF[high], bracketG[high], bracketGtd[high]) = (t, fNew, gNew, gtdNew)
        (low, high) = bracketF[0] <= bracketF[1] ? (0, 1) : (1, 0)
      } else {
        if Swift.abs(gtdNew) <= -c2 * gtd {
          done = true
        } else if gtdNew * (bracket[high] - bracket[low]) >= 0 {
          (bracket[high], bracketF[high], bracketG[high], bracketGtd[high]) =
            (bracket[low], bracketF[low], bracketG[low], bracketGtd[low])
        }
        (bracket[low], bracketF[low], bracketG[low], bracketGtd[low]) = (t, fNew, gNew, gtdNew)
      }
    }
    // PyTorch reads the low end; a one-point bracket has only index 0.
    let at = Swift.min(low, bracket.count - 1)
    return Result(value: bracketF[at], gradient: bracketG[at], step: bracket[at], evaluations: evals)
  }
}
