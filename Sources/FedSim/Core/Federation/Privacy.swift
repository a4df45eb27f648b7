import Foundation
import Tensors

/// DP-SGD (Abadi et al. 2016): each example's gradient is clipped to L2 norm `clip`, the clipped
/// gradients are summed, Gaussian noise of standard deviation `noiseMultiplier · clip` is added,
/// and the sum is divided by the batch size.
public struct DPSGD: Sendable, Codable, Equatable {
  public var clip: Double?
  public var noiseMultiplier: Double?
  public var delta: Double?

  enum CodingKeys: String, CodingKey {
    case clip, delta
    case noiseMultiplier = "noise_multiplier"
  }

  public init(clip: Double? = nil, noiseMultiplier: Double? = nil, delta: Double? = nil) {
    (self.clip, self.noiseMultiplier, self.delta) = (clip, noiseMultiplier, delta)
  }

  /// The private gradient of `model` on a batch.
  public func gradient<Model: Layer>(
    _ model: Model, images: Tensor, labels: [Int], classes: Int, generator: inout SeededGenerator
  ) -> [Tensor] {
    let c = Float(clip ?? 1)
    var sum: [Tensor]?
    for b in 0..<labels.count {
      let g = sharedGradientOf(model, images.sliced(alongAxis: 0, b..<(b + 1)), oneHot([labels[b]], classes: classes))
      let norm = g.map { Double(($0 * $0).sum().scalar) }.reduce(0, +).squareRoot()
      let scale = Float(Swift.min(1, Double(c) / Swift.max(norm, 1e-12)))
      let clipped = g.map { $0 * scale }
      sum = sum.map { zip($0, clipped).map { $0 + $1 } } ?? clipped
    }
    let std = Float(noiseMultiplier ?? 1) * c
    return sum!.map { ($0 + Tensor.normal($0.shape, std: std, using: &generator)) / Float(labels.count) }
  }
}

/// The Rényi-DP accountant for the sampled Gaussian mechanism (Mironov, Talwar and Zhang 2019),
/// at the integer orders 2…128, converted to (ε, δ) as Balle et al. (2020) do (Opacus's
/// conversion).
public enum RDPAccountant {
  public static let orders = Array(2...128)

  /// The RDP of one step at order `alpha`, with sampling rate `q` and noise multiplier `sigma`:
  /// `log(Σ_k C(α,k) (1−q)^(α−k) q^k exp((k²−k)/(2σ²))) / (α−1)`.
  public static func rdp(q: Double, sigma: Double, order alpha: Int) -> Double {
    if q <= 0 { return 0 }
    if q >= 1 { return Double(alpha) / (2 * sigma * sigma) }
    let a = Double(alpha)
    var terms: [Double] = []
    for k in 0...alpha {
      let kd = Double(k)
      let logBinomial = lgamma(a + 1) - lgamma(kd + 1) - lgamma(a - kd + 1)
      terms.append(logBinomial + (a - kd) * log(1 - q) + kd * log(q) + (kd * kd - kd) / (2 * sigma * sigma))
    }
    let m = terms.max()!
    return (m + log(terms.map { exp($0 - m) }.reduce(0, +))) / (a - 1)
  }

  /// The smallest ε over the orders after `steps` steps, and the order that gave it.
  public static func epsilon(q: Double, sigma: Double, steps: Int, delta: Double) -> (epsilon: Double, order: Int) {
    var best = (Double.infinity, 0)
    for alpha in orders {
      let a = Double(alpha)
      let total = Double(steps) * rdp(q: q, sigma: sigma, order: alpha)
      let eps = total - (log(delta) + log(a)) / (a - 1) + log((a - 1) / a)
      if eps < best.0 { best = (eps, alpha) }
    }
    return (Swift.max(0, best.0), best.1)
  }
}

private func sharedGradientOf<Model: Layer>(_ model: Model, _ x: Tensor, _ y: Tensor) -> [Tensor] {
  let m = model.requiringGradients()
  return gradients(of: softCrossEntropy(logits: m(x), targets: y), wrt: m.parameters)
}
