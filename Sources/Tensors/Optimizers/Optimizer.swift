/// A first-order optimizer that updates a flat parameter vector from its gradient.
///
/// The vector is all parameters concatenated (`[Tensor].flattenedScalars`); the optimizer keeps
/// its own state (momentum, moments, step count) between steps, as PyTorch's do.
public protocol GradientOptimizer: Sendable {
  /// One update of `parameters` given `gradient` at `parameters`.
  mutating func step(_ parameters: inout [Float], gradient: [Float])
}

/// Stochastic gradient descent as `torch.optim.SGD`: weight decay, momentum with dampening,
/// and Nesterov momentum.
public struct SGD: GradientOptimizer {
  public var learningRate: Float
  public var momentum: Float
  public var dampening: Float
  public var weightDecay: Float
  public var nesterov: Bool
  private var buffer: [Float]?

  public init(
    learningRate: Float, momentum: Float = 0, dampening: Float = 0, weightDecay: Float = 0,
    nesterov: Bool = false
  ) {
    precondition(!nesterov || (momentum > 0 && dampening == 0), "Nesterov needs momentum and no dampening")
    (self.learningRate, self.momentum, self.dampening) = (learningRate, momentum, dampening)
    (self.weightDecay, self.nesterov) = (weightDecay, nesterov)
  }

  public mutating func step(_ parameters: inout [Float], gradient: [Float]) {
    precondition(parameters.count == gradient.count, "parameters and gradient differ in length")
    var d = gradient
    if weightDecay != 0 { FlatVector.axpy(weightDecay, parameters, &d) }
    if momentum != 0 {
      if var b = buffer {
        for i in b.indices { b[i] = momentum * b[i] + (1 - dampening) * d[i] }
        buffer = b
      } else {
        buffer = d
      }
      if nesterov { FlatVector.axpy(momentum, buffer!, &d) } else { d = buffer! }
    }
    FlatVector.axpy(-learningRate, d, &parameters)
  }
}

/// Adam as `torch.optim.Adam` (L2 weight decay added to the gradient, bias-corrected moments).
public struct Adam: GradientOptimizer {
  public var learningRate: Float
  public var beta1: Float
  public var beta2: Float
  public var epsilon: Float
  public var weightDecay: Float
  public private(set) var stepCount = 0
  private var m: [Float] = []
  private var v: [Float] = []

  public init(
    learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
    weightDecay: Float = 0
  ) {
    (self.learningRate, self.beta1, self.beta2) = (learningRate, beta1, beta2)
    (self.epsilon, self.weightDecay) = (epsilon, weightDecay)
  }

  public mutating func step(_ parameters: inout [Float], gradient: [Float]) {
    precondition(parameters.count == gradient.count, "parameters and gradient differ in length")
    if m.isEmpty {
      m = [Float](repeating: 0, count: parameters.count)
      v = m
    }
    stepCount += 1
    let bc1 = 1 - Float(Double(beta1).power(stepCount))
    let bc2Root = Float((1 - Double(beta2).power(stepCount)).squareRoot())
    let stepSize = learningRate / bc1
    for i in parameters.indices {
      let g = weightDecay == 0 ? gradient[i] : gradient[i] + weightDecay * parameters[i]
      m[i] = beta1 * m[i] + (1 - beta1) * g
      v[i] = beta2 * v[i] + (1 - beta2) * g * g
      parameters[i] -= stepSize * m[i] / (v[i].squareRoot() / bc2Root + epsilon)
    }
  }
}

extension Double {
  fileprivate func power(_ n: Int) -> Double {
    var r = 1.0
    for _ in 0..<n { r *= self }
    return r
  }
}
