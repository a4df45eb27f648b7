import Foundation

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

extension RDPAccountant {
  /// The ε DP-SGD spent for a client with `images` private images that was selected in
  /// `rounds` rounds of `scenario`: sampling rate batch/images over the steps it took (one per
  /// round in FedSGD, an epoch's batches per epoch in FedAvg). Batches are drawn without
  /// replacement, which the Poisson-sampling analysis approximates.
  public static func clientEpsilon(_ scenario: Scenario, _ dp: DPSGDSettings, images: Int, rounds: Int) -> Double {
    let f = scenario.federation
    let n = Swift.max(1, images)
    let b = Swift.min(f.localBatch, n)
    let perRound = f.algorithm == .fedsgd ? 1 : f.epochs * ((n + b - 1) / b)
    return epsilon(q: Double(b) / Double(n), sigma: dp.noiseMultiplier, steps: perRound * rounds, delta: dp.delta).epsilon
  }
}
