import Foundation
import FedSimCore
import Tensors

extension Defense {
  /// The update after this defense, drawing any noise from `generator`.
  ///
  /// - `gaussian_noise: σ` adds N(0, σ²) to every value; `laplace_noise: b` adds Laplace(0, b).
  /// - `clip: C` scales the whole update down to L2 norm C if it is longer.
  /// - `prune: p` zeroes the fraction p of values smallest in magnitude, over all layers at once;
  ///   `prune_layer: p` does it within each layer (the per-layer p-quantile).
  /// - `quantize: fp16` rounds every value to half precision; `quantize: int8` to 255 levels
  ///   symmetric about zero, scaled per tensor by its largest magnitude.
  public func apply(_ update: [Tensor], generator: inout SeededGenerator) -> [Tensor] {
    switch self {
    case .gaussianNoise(let sigma):
      return update.map { $0 + Tensor.normal($0.shape, std: sigma, using: &generator) }
    case .laplaceNoise(let b):
      return update.map { $0 + Self.laplace($0.shape, scale: b, generator: &generator) }
    case .clip(let c):
      let norm = update.map { Double(($0 * $0).sum().scalar) }.reduce(0, +).squareRoot()
      guard norm > Double(c) else { return update }
      return update.map { $0 * Float(Double(c) / norm) }
    case .prune(let p):
      return p > 0 ? Self.pruned(update, fraction: p) : update
    case .pruneLayer(let p):
      return p > 0 ? update.map { Self.pruned([$0], fraction: p)[0] } : update
    case .quantize(.fp16):
      return update.map { Tensor(shape: $0.shape, scalars: $0.scalars.map { Float(Float16($0)) }) }
    case .quantize(.int8):
      return update.map(Self.int8)
    }
  }

  static func laplace(_ shape: [Int], scale b: Float, generator: inout SeededGenerator) -> Tensor {
    let count = shape.reduce(1, *)
    let noise = (0..<count).map { _ -> Float in
      let u = Float(generator.nextUnitDouble()) - 0.5
      return -b * (u < 0 ? -1 : 1) * Foundation.log(1 - 2 * Swift.abs(u) + Float.leastNormalMagnitude)
    }
    return Tensor(shape: shape, scalars: noise)
  }

  /// Per-tensor symmetric 8-bit levels, scaled by the tensor's largest magnitude.
  static func int8(_ t: Tensor) -> Tensor {
    let m = t.scalars.map(Swift.abs).max() ?? 0
    guard m > 0 else { return t }
    let scale = m / 127
    return Tensor(shape: t.shape, scalars: t.scalars.map { ($0 / scale).rounded() * scale })
  }

  /// `update` with the fraction `p` of its values smallest in magnitude (over all its tensors)
  /// set to zero.
  static func pruned(_ update: [Tensor], fraction p: Float) -> [Tensor] {
    let magnitudes = update.flatMap { $0.scalars.map(Swift.abs) }.sorted()
    let k = Int((Double(magnitudes.count) * Double(p) + 1e-4).rounded(.down))  // 0.9 as Float is 0.8999…
    guard k > 0 else { return update }
    let threshold = magnitudes[k - 1]
    var dropped = 0
    return update.map { t in
      Tensor(shape: t.shape, scalars: t.scalars.map { v in
        if Swift.abs(v) <= threshold && dropped < k {
          dropped += 1
          return 0
        }
        return v
      })
    }
  }
}
