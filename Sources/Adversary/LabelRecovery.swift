import Tensors

/// Reading the private labels off the shared gradient of the last linear layer, before any
/// optimisation (iDLG, Zhao et al. 2020).
///
/// With soft-max cross-entropy the last layer's weight gradient is
/// `∂L/∂W = (1/B) Σ_i (p_i − y_i) h_iᵀ`, one row per class. Row `c` of one example is
/// `(p_c − y_c)·h`: when the features `h` are non-negative (after a sigmoid or ReLU) it is
/// negative for the true class and positive for every other, so at batch 1 the label is the
/// class whose row sums below zero (the most negative one, if rounding leaves more than one).
///
/// At batch `B > 1` rows mix. When the last layer has a bias, FedSim counts labels as Geng et
/// al. (2021) do: the bias gradient is `∂L/∂b_c = (1/B) Σ_i (p_ic − y_ic)`, so class `c` appears
/// `n_c = B·(p̄_c − ∂L/∂b_c)` times, where `p̄_c`, the batch's mean predicted probability, is
/// estimated by the model's mean prediction on random images (`meanPrediction`). The counts,
/// clipped at zero, are rounded to `B` labels by largest remainders. Without a bias or an
/// estimate it falls back to the rows: classes whose weight-gradient rows sum below zero are
/// present, the most negative first, and spare slots go to the class with the largest
/// remaining share of negative mass (`|row sum| / (times taken + 1)`). Labels come back
/// ascending; their order carries no information.
public enum LabelRecovery {
  /// The labels of a batch of `batch` examples, from the shared gradient (model parameter order).
  public static func labels(
    sharedGradient: [Tensor], classes: Int, batch: Int, meanPrediction: [Double]? = nil
  ) -> [Int] {
    guard
      let w = sharedGradient.lastIndex(where: { $0.rank == 2 && $0.shape[0] == classes })
    else {
      preconditionFailure("no last linear layer with \(classes) rows in the shared gradient")
    }
    let rows = sharedGradient[w].sum(alongAxis: 1).scalars.map(Double.init)
    if batch > 1, let p = meanPrediction, w + 1 < sharedGradient.count,
      sharedGradient[w + 1].shape == [classes]
    {
      let bias = sharedGradient[w + 1].scalars.map(Double.init)
      return largestRemainders((0..<classes).map { Swift.max(0, Double(batch) * (p[$0] - bias[$0])) }, total: batch)
    }
    return fromRows(rows, batch: batch)
  }

  /// The mean soft-max prediction of `model` on `count` uniform random images of `shape`
  /// (`[C, H, W]`), the estimate of `p̄` the counting rule needs.
  public static func meanPrediction<Model: Layer>(
    of model: Model, imageShape: [Int], count: Int = 64, seed: UInt64 = 0
  ) -> [Double] {
    var generator = SeededGenerator(seed: seed)
    let x = Tensor.uniform([count] + imageShape, using: &generator)
    return softmax(withoutGradients { model(x) }, alongAxis: -1).mean(alongAxes: [0]).scalars.map(Double.init)
  }

  /// Whole counts summing to `total` in proportion to `weights` (largest remainder method).
  static func largestRemainders(_ weights: [Double], total: Int) -> [Int] {
    let sum = weights.reduce(0, +)
    guard sum > 0 else { return fromRows(weights.map { -$0 }, batch: total) }
    let exact = weights.map { $0 / sum * Double(total) }
    var counts = exact.map { Int($0.rounded(.down)) }
    let order = exact.indices.sorted { exact[$0] - Double(counts[$0]) > exact[$1] - Double(counts[$1]) }
    for c in order.prefix(total - counts.reduce(0, +)) { counts[c] += 1 }
    return counts.enumerated().flatMap { [Int](repeating: $0.offset, count: $0.element) }
  }

  /// The sign rule (batch 1) and the row-counting rule (batch > 1) on weight-gradient row sums.
  static func fromRows(_ rows: [Double], batch: Int) -> [Int] {
    let present = rows.indices.filter { rows[$0] < 0 }.sorted { rows[$0] < rows[$1] }
    guard !present.isEmpty else {
      return [Int](repeating: rows.indices.min { rows[$0] < rows[$1] }!, count: batch)
    }
    if present.count >= batch { return Array(present.prefix(batch)).sorted() }
    var taken = Dictionary(uniqueKeysWithValues: present.map { ($0, 1) })
    for _ in present.count..<batch {
      let c = present.max { a, b in
        -rows[a] / Double(taken[a]! + 1) < -rows[b] / Double(taken[b]! + 1)
      }!
      taken[c]! += 1
    }
    return taken.flatMap { c, k in [Int](repeating: c, count: k) }.sorted()
  }
}
