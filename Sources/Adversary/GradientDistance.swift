import Tensors

/// How far a dummy gradient is from the gradient a client shared, summed over layers.
///
/// Each is written in differentiable ops, so an attack can differentiate it with respect to the
/// dummy input through the dummy gradient (double backprop). `docs/attacks.md` gives the
/// mathematics of each.
public enum GradientDistance: String, Sendable, CaseIterable, Codable {
  /// DLG: `Σ_layers ‖g′ − g‖²`.
  case l2
  /// The 1-D squared Wasserstein-2 distance between the value distributions of each layer's
  /// gradient: `Σ_layers mean((sort(g′) − sort(g))²)`. Blind to where each value sits, so on
  /// its own it does not reconstruct; it is the reading of WDLG that fails.
  case sortedWasserstein = "wasserstein"
  /// WDLG as FedSim builds it: a Wasserstein term beside a matching term, per layer
  /// `‖g′ − g‖² + n·W₂²(μ(g′), μ(g))`, where `μ(v)` is the empirical distribution of a layer's
  /// `n` gradient values and `n·W₂² = ‖sort(g′) − sort(g)‖²` is the optimal-transport cost of
  /// moving one set of values onto the other. The matching term supplies the positions the
  /// transport term cannot see (`docs/attacks.md`).
  case wasserstein = "wdlg"
  /// Inverting Gradients: `1 − ⟨g′, g⟩ / (‖g′‖ ‖g‖)` over all layers concatenated.
  case cosine
  /// DLG's distance with every layer weighed by its own size: `Σ_layers ‖g′ − g‖² / ‖g‖²`
  /// (a layer whose shared gradient is zero counts unweighted). Deep sigmoid networks shrink
  /// the first layers' gradients by orders of magnitude, and plain L2 then hardly sees the
  /// layers nearest the pixels.
  case layerL2 = "layer-l2"

  /// Whether the distance compares sorted gradients (so the shared gradient's sort can be kept).
  var sortsValues: Bool { self == .sortedWasserstein || self == .wasserstein }

  /// The distance between `dummy` and `target`, layer by layer in the same order.
  /// `sortedTarget` may carry each target layer's values already sorted ascending.
  public func callAsFunction(_ dummy: [Tensor], _ target: [Tensor], sortedTarget: [Tensor]? = nil)
    -> Tensor
  {
    precondition(dummy.count == target.count, "\(dummy.count) dummy layers vs \(target.count) shared")
    func sortedValues(_ t: Tensor) -> Tensor { t.reshaped(to: [t.scalarCount]).sorted().values }
    let sortedTarget = sortsValues ? (sortedTarget ?? target.map(sortedValues)) : []
    switch self {
    case .l2:
      return zip(dummy, target).map { d, t in squaredDistance(d, t) }.reduce(+)!
    // The transport terms pair each dummy value with the target value of the same rank
    // (`rankAligned`), which has the value and gradient of comparing the two sorts.
    case .sortedWasserstein:
      return zip(dummy, sortedTarget).map { d, st in (d - d.rankAligned(st)).pow(2).mean() }
        .reduce(+)!
    case .wasserstein:
      // ‖g′ − t‖² + ‖g′ − a‖² = 2‖g′ − (t + a)/2‖² + ‖t − a‖²/2, with `a` the rank-aligned
      // target: one squared distance in the graph, as DLG's, and a constant beside it.
      return dummy.indices.map { l in
        let aligned = dummy[l].rankAligned(sortedTarget[l])
        let (t, a) = (target[l].detached().scalars, aligned.scalars)
        var middle = [Float](repeating: 0, count: t.count)
        var spread = 0.0
        for i in t.indices {
          middle[i] = (t[i] + a[i]) / 2
          spread += Double(t[i] - a[i]) * Double(t[i] - a[i])
        }
        let m = Tensor(shape: target[l].shape, scalars: middle)
        return 2 * (dummy[l] - m).pow(2).sum() + Float(spread / 2)
      }.reduce(+)!
    case .layerL2:
      return zip(dummy, target).map { d, t in
        let norm = t.detached().scalars.reduce(0) { $0 + Double($1) * Double($1) }
        return squaredDistance(d, t) * Float(norm > 0 ? 1 / norm : 1)
      }.reduce(+)!
    case .cosine:
      let dot = zip(dummy, target).map { d, t in (d * t).sum() }.reduce(+)!
      let nd = dummy.map { ($0 * $0).sum() }.reduce(+)!.sqrt()
      let nt = target.map { ($0 * $0).sum() }.reduce(+)!.sqrt()
      return 1 - dot / (nd * nt)
    }
  }

  /// Each layer's values sorted ascending, for `sortedTarget`.
  public static func sortedLayers(_ layers: [Tensor]) -> [Tensor] {
    layers.map { $0.detached().reshaped(to: [$0.scalarCount]).sorted().values }
  }
}

extension Array {
  fileprivate func reduce(_ f: (Element, Element) -> Element) -> Element? {
    guard var acc = first else { return nil }
    for e in dropFirst() { acc = f(acc, e) }
    return acc
  }
}
