/// The part of a graph that lies between an output and a set of target leaves, in topological
/// order (inputs before the nodes that use them). `pairing`: each batch-norm input gradient
/// placed beside the weight gradient made from the same tensors (`BackwardGraph+Pairs`).
struct BackwardGraph {
  private(set) var order: [(Node, Tensor)] = []
  /// Places `i` whose node and the next one's are such a pair.
  private(set) var pairedWithNext = Set<Int>()
  private var reaching = Set<ObjectIdentifier>()
  private let targets: Set<ObjectIdentifier>

  init(root: Tensor, targets: [Node], pairing: Bool = false) {
    self.targets = Set(targets.map(ObjectIdentifier.init))
    var visited = Set<ObjectIdentifier>()
    // Iterative post-order DFS: deep graphs must not overflow the stack.
    var stack: [(Tensor, Int)] = [(root, 0)]
    visited.insert(ObjectIdentifier(root.node!))
    while let (tensor, next) = stack.last {
      let node = tensor.node!
      if next < node.inputs.count {
        stack[stack.count - 1].1 += 1
        let input = node.inputs[next]
        if let child = input.node, visited.insert(ObjectIdentifier(child)).inserted {
          stack.append((input, 0))
        }
      } else {
        stack.removeLast()
        let id = ObjectIdentifier(node)
        if self.targets.contains(id)
          || node.inputs.contains(where: { $0.node.map { reaching.contains(ObjectIdentifier($0)) } ?? false })
        {
          reaching.insert(id)
          order.append((node, tensor))
        }
      }
    }
    if pairing { (order, pairedWithNext) = Self.pairingBatchNormGradients(order) }
  }

  func reaches(_ node: Node?) -> Bool {
    node.map { reaching.contains(ObjectIdentifier($0)) } ?? false
  }

  func isTarget(_ id: ObjectIdentifier) -> Bool { targets.contains(id) }
}
