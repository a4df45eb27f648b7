/// Which classes a batch holds, read off the span of the last layer's gradient.
///
/// The columns of `G = Σ_b k_b·h_bᵀ` span the output gradients `k_b = (p_b − e_{y_b})/B`. While
/// the predictions `p_b` stay near their mean `p̄` (as at random weights), `p̄ − e_c` lies in that
/// span for every class `c` in the batch and well outside it for the others. Each class is
/// scored by the share of `p̄ − e_c` outside the span; the classes under one half are taken as
/// present. This reads the set of classes, not their counts: when fewer than `B` are present,
/// the repeats come from the counting rule's labels (see `LabelRecovery`); when more, the `B`
/// nearest are kept.
enum SpanLabels {
  static let presentBelow = 0.5

  static func read(basis: [[Double]], meanPrediction p: [Double], counted: [Int]) -> [Int] {
    let batch = counted.count
    let outside = p.indices.map { c in share(outsideOf: basis, p.indices.map { p[$0] - ($0 == c ? 1 : 0) }) }
    let order = p.indices.sorted { outside[$0] < outside[$1] }
    var present = Array(order.prefix { outside[$0] < presentBelow }.prefix(batch))
    if present.isEmpty { return counted }
    // Repeats: the counted labels of present classes beyond their first, then the present
    // classes nearest the span, until the batch is full.
    var extra = counted
    for c in present { if let i = extra.firstIndex(of: c) { extra.remove(at: i) } }
    for c in extra where present.count < batch && present.contains(c) { present.append(c) }
    let found = present.count
    for next in 0..<Swift.max(0, batch - present.count) { present.append(order[next % found]) }
    return present.sorted()
  }

  /// `‖v − Eᵀ·E·v‖ / ‖v‖` for orthonormal rows `E`.
  static func share(outsideOf basis: [[Double]], _ v: [Double]) -> Double {
    let size = v.reduce(0) { $0 + $1 * $1 }
    guard size > 0 else { return 1 }
    let inside = basis.reduce(0) { total, e in
      let d = zip(e, v).reduce(0) { $0 + $1.0 * $1.1 }
      return total + d * d
    }
    return (Swift.max(0, size - inside) / size).squareRoot()
  }
}
