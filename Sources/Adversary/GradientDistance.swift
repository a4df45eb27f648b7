import Tensors

/// How far a dummy gradient is from the gradient a client shared, summed over layers.
///
/// Each is written in differentiable ops, so an attack can differentiate it with respect to the
/// dummy input through the dummy gradient (double backprop).
public enum GradientDistance: String, Sendable, CaseIterable, Codable {
  /// DLG: `Σ_layers ‖g′ − g‖²`.
  case l2
  /// The 1-D squared Wasserstein-2 distance between the value distributions of each layer's
  /// gradient: `Σ_layers mean((sort(g′) − sort(g))²)`. (Not a working attack on its own; see
  /// the WDLG notes.)
  case sortedWasserstein = "wasserstein"
  /// Inverting Gradients: `1 − ⟨g′, g⟩ / (‖g′‖ ‖g‖)` over all layers concatenated.
  case cosine

  /// The distance between `dummy` and `target`, layer by layer in the same order.
  public func callAsFunction(_ dummy: [Tensor], _ target: [Tensor]) -> Tensor {
    precondition(dummy.count == target.count, "\(dummy.count) dummy layers vs \(target.count) shared")
    switch self {
    case .l2:
      return zip(dummy, target).map { d, t in (d - t).pow(2).sum() }.reduce(+)!
    case .sortedWasserstein:
      return zip(dummy, target).map { d, t in
        let sd = d.reshaped(to: [d.scalarCount]).sorted().values
        let st = t.reshaped(to: [t.scalarCount]).sorted().values
        return (sd - st).pow(2).mean()
      }.reduce(+)!
    case .cosine:
      let dot = zip(dummy, target).map { d, t in (d * t).sum() }.reduce(+)!
      let nd = dummy.map { ($0 * $0).sum() }.reduce(+)!.sqrt()
      let nt = target.map { ($0 * $0).sum() }.reduce(+)!.sqrt()
      return 1 - dot / (nd * nt)
    }
  }
}

extension Array {
  fileprivate func reduce(_ f: (Element, Element) -> Element) -> Element? {
    guard var acc = first else { return nil }
    for e in dropFirst() { acc = f(acc, e) }
    return acc
  }
}
