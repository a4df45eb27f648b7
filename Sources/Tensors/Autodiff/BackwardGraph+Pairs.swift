extension BackwardGraph {
  /// Moves the later of each batch-norm input gradient and weight gradient made from the same
  /// output gradient and input (as `batchNormGradients` records them) to just after the
  /// earlier, where the order allows: a last backward pass then meets the two together, with
  /// both their gradients complete, and pulls both back in one pass over the layer
  /// (`Op.batchNormPairPullback`) where two read the same tensors and added into the same sums.
  ///
  /// The order stays topological: the moved node's inputs all lie before the earlier one (it is
  /// moved only then), and what uses it lies after its old place, later still.
  static func pairingBatchNormGradients(
    _ order: [(Node, Tensor)]
  ) -> (order: [(Node, Tensor)], pairedWithNext: Set<Int>) {
    var inputGradients = [PairKey: Int](), weightGradients = [PairKey: Int]()
    for (i, (node, _)) in order.enumerated() {
      switch node.op {
      case .batchNormInputGradient(let epsilon): inputGradients[PairKey(node, epsilon)] = i
      case .batchNormWeightGradient(let epsilon): weightGradients[PairKey(node, epsilon)] = i
      default: continue
      }
    }
    var place = [ObjectIdentifier: Int]()
    for (i, (node, _)) in order.enumerated() { place[ObjectIdentifier(node)] = i }
    var later = [Int: Int]()  // the earlier place of a pair → the later
    for (key, a) in inputGradients {
      guard let b = weightGradients[key] else { continue }
      let (first, second) = (Swift.min(a, b), Swift.max(a, b))
      let inputsBefore = order[second].0.inputs.allSatisfy { input in
        input.node.flatMap { place[ObjectIdentifier($0)] }.map { $0 < first } ?? true
      }
      if inputsBefore { later[first] = second }
    }
    guard !later.isEmpty else { return (order, []) }
    let moved = Set(later.values)
    var (paired, pairedWithNext): ([(Node, Tensor)], Set<Int>) = ([], [])
    paired.reserveCapacity(order.count)
    for i in order.indices where !moved.contains(i) {
      paired.append(order[i])
      if let second = later[i] {
        pairedWithNext.insert(paired.count - 1)
        paired.append(order[second])
      }
    }
    return (paired, pairedWithNext)
  }

  /// The node paired with the one at `place` that lies just before it, if any.
  func partner(before place: Int) -> Node? {
    place > 0 && pairedWithNext.contains(place - 1) ? order[place - 1].0 : nil
  }
}

/// What pairs a batch-norm input gradient with a weight gradient: the same output gradient and
/// input (the same storages, of the same shapes, and the same nodes: a detached tensor shares
/// its storage but takes no gradient) and the same ε.
private struct PairKey: Hashable {
  let storages: [ObjectIdentifier], nodes: [ObjectIdentifier?]
  let shapes: [[Int]]
  let epsilon: UInt32

  init(_ node: Node, _ epsilon: Float) {
    let tensors = node.inputs[0...1]
    storages = tensors.map { ObjectIdentifier($0.storage) }
    nodes = tensors.map { $0.node.map(ObjectIdentifier.init) }
    (shapes, self.epsilon) = (tensors.map(\.shape), epsilon.bitPattern)
  }
}
