import Tensors

/// Checks the first and second derivatives of `f` against central finite differences.
///
/// First order: the gradient of `L(x) = Σ r ⊙ f(x)` for a fixed random `r`. Second order: the
/// gradient of `H(x) = Σ_i ⟨v_i, ∂L/∂x_i⟩`, taken through the recorded backward pass
/// (`createGraph`), against finite differences of `H` computed without recording. This checks
/// every backward rule `f` uses, and the rules of those rules.
public struct GradientCheck {
  public var epsilon: Float = 1e-2
  public var seed: UInt64 = 7

  public init(epsilon: Float = 1e-2, seed: UInt64 = 7) {
    self.epsilon = epsilon
    self.seed = seed
  }

  /// Relative errors (first order, second order) between analytic and numeric derivatives.
  public func errors(_ f: ([Tensor]) -> Tensor, at inputs: [Tensor]) -> (first: Double, second: Double) {
    var gen = SeededGenerator(seed: seed)
    let probe = f(inputs)
    let r = Tensor.normal(probe.shape, using: &gen)
    let v = inputs.map { Tensor.normal($0.shape, using: &gen) }

    func loss(_ xs: [Tensor]) -> Tensor { (f(xs) * r).sum() }
    func firstGradients(_ xs: [Tensor], createGraph: Bool) -> ([Tensor], [Tensor]) {
      let leaves = xs.map { $0.requiringGradient() }
      return (leaves, gradients(of: loss(leaves), wrt: leaves, createGraph: createGraph))
    }
    func h(_ xs: [Tensor]) -> Float {
      let (_, g) = firstGradients(xs, createGraph: false)
      return zip(g, v).map { ($0 * $1).sum().scalar }.reduce(0, +)
    }

    // Analytic.
    let (leaves, g1) = firstGradients(inputs, createGraph: true)
    let hValue = zip(g1, v).map { ($0 * $1).sum() }.reduce(Tensor(0), +)
    let g2 = hValue.requiresGradient
      ? gradients(of: hValue, wrt: leaves) : inputs.map { Tensor.zeros($0.shape) }

    // Numeric.
    let n1 = numericGradient({ loss($0).scalar }, at: inputs)
    let n2 = numericGradient(h, at: inputs)
    return (combinedError(g1, n1), combinedError(g2, n2))
  }

  func numericGradient(_ f: ([Tensor]) -> Float, at inputs: [Tensor]) -> [Tensor] {
    inputs.indices.map { k in
      var values = inputs[k].scalars
      var grad = [Float](repeating: 0, count: values.count)
      for i in values.indices {
        let x0 = values[i]
        var xs = inputs
        values[i] = x0 + epsilon
        xs[k] = Tensor(shape: inputs[k].shape, scalars: values)
        let up = Double(f(xs))
        values[i] = x0 - epsilon
        xs[k] = Tensor(shape: inputs[k].shape, scalars: values)
        let down = Double(f(xs))
        values[i] = x0
        grad[i] = Float((up - down) / (2 * Double(epsilon)))
      }
      return Tensor(shape: inputs[k].shape, scalars: grad)
    }
  }

  /// ‖a − b‖ / max(‖b‖, 1e-2) over all tensors together.
  func combinedError(_ a: [Tensor], _ b: [Tensor]) -> Double {
    var diff = 0.0
    var norm = 0.0
    for (x, y) in zip(a, b) {
      for (p, q) in zip(x.scalars, y.scalars) {
        diff += Double(p - q) * Double(p - q)
        norm += Double(q) * Double(q)
      }
    }
    return diff.squareRoot() / Swift.max(norm.squareRoot(), 1e-2)
  }
}
