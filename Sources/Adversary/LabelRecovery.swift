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
/// At batch `B > 1` rows mix, so FedSim uses a counting rule: the classes whose rows sum below
/// zero are the labels present in the batch. If there are at least `B` of them, the `B` most
/// negative are taken; if fewer, each present class is taken once and the remaining slots go,
/// one at a time, to the present class with the largest remaining share of negative mass
/// (`|row sum| / (times already taken + 1)`), since a class appearing k times contributes about
/// k times the negative mass. Labels come back ascending; their order carries no information.
public enum LabelRecovery {
  /// The labels of a batch of `batch` examples, from the shared gradient (model parameter order).
  public static func labels(sharedGradient: [Tensor], classes: Int, batch: Int) -> [Int] {
    guard
      let weight = sharedGradient.last(where: { $0.rank == 2 && $0.shape[0] == classes })
    else {
      preconditionFailure("no last linear layer with \(classes) rows in the shared gradient")
    }
    let rows = weight.sum(alongAxis: 1).scalars.map(Double.init)
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
