import Foundation
import FedSimCore
import Tensors

/// DP-SGD (Abadi et al. 2016): each example's gradient is clipped to L2 norm `clip`, the clipped
/// gradients are summed, Gaussian noise of standard deviation `noiseMultiplier · clip` is added,
/// and the sum is divided by the batch size.
extension DPSGDSettings {
  /// The private gradient of `model` on a batch.
  public func gradient<Model: Layer>(
    _ model: Model, images: Tensor, labels: [Int], classes: Int, generator: inout SeededGenerator
  ) -> [Tensor] {
    let c = Float(clip)
    var sum: [Tensor]?
    for b in 0..<labels.count {
      let g = sharedGradient(model: model, input: images.sliced(alongAxis: 0, b..<(b + 1)), targets: oneHot([labels[b]], classes: classes))
      let norm = g.map { Double(($0 * $0).sum().scalar) }.reduce(0, +).squareRoot()
      let scale = Float(Swift.min(1, Double(c) / Swift.max(norm, 1e-12)))
      let clipped = g.map { $0 * scale }
      sum = sum.map { zip($0, clipped).map { $0 + $1 } } ?? clipped
    }
    let std = Float(noiseMultiplier) * c
    return (sum ?? []).map { ($0 + Tensor.normal($0.shape, std: std, using: &generator)) / Float(labels.count) }
  }
}

