import FedSimCore
import Tensors

/// Simulated secure aggregation (Bonawitz et al. 2017, without dropout recovery).
public enum SecureAggregation {
  /// `update` masked for the server: for every other selected client j, a mask drawn from a seed
  /// the two share is added by the lower index and subtracted by the higher, divided by the
  /// client's example count so that the masks cancel in the examples-weighted sum the server
  /// computes. One masked update alone is noise of standard deviation about √(k−1)/examples.
  public static func mask(
    _ update: [Tensor], client: Int, round: Int, selected: [Int], examples: Int, seed: UInt64
  ) -> [Tensor] {
    var out = update
    for j in selected where j != client {
      let (a, b) = (Swift.min(client, j), Swift.max(client, j))
      var shared = SeededGenerator(seed: seed &+ UInt64(round) << 40 &+ UInt64(a) << 20 &+ UInt64(b))
      let sign: Float = client == a ? 1 : -1
      out = out.indices.map { i in out[i] + Tensor.normal(out[i].shape, using: &shared) * (sign / Float(examples)) }
    }
    return out
  }
}
