/// The gradients of `output` with respect to each of `inputs`.
///
/// `output` must have one element unless `seed` (the gradient flowing into `output`, of its
/// shape) is given. An input that `output` does not depend on gets zeros. With `createGraph` the
/// backward computation is itself recorded, so its results can be differentiated again
/// (PyTorch's `create_graph=True`); otherwise they are plain values.
public func gradients(
  of output: Tensor, wrt inputs: [Tensor], seed: Tensor? = nil, createGraph: Bool = false
) -> [Tensor] {
  for x in inputs {
    precondition(x.node != nil, "gradients(of:wrt:): an input does not require gradients")
  }
  let seed = seed ?? Tensor(repeating: 1, shape: output.shape)
  precondition(seed.shape == output.shape, "seed shape \(seed.shape) ≠ output \(output.shape)")
  guard let root = output.node else { return inputs.map { Tensor.zeros($0.shape) } }

  let run = {
    let graph = BackwardGraph(root: output, targets: inputs.map { $0.node! })
    var grads = [ObjectIdentifier: Tensor]()
    grads[ObjectIdentifier(root)] = seed
    for (node, value) in graph.order.reversed() {
      let id = ObjectIdentifier(node)
      guard let g = grads[id] else { continue }
      if case .leaf = node.op { continue }
      if !graph.isTarget(id) { grads[id] = nil }  // free what is no longer needed
      let needs = node.inputs.map { graph.reaches($0.node) }
      if !Recording.isEnabled, node.op.addsIntoSums {
        addPullback(of: node, g, output: value, needs: needs, into: &grads)
        continue
      }
      let partials = node.op.pullback(g, inputs: node.inputs, output: value, needs: needs)
      for (i, partial) in partials.enumerated() {
        guard needs[i], let partial, let inputNode = node.inputs[i].node else { continue }
        let input = node.inputs[i]
        let p = partial.shape == input.shape ? partial : partial.summed(toShape: input.shape)
        let key = ObjectIdentifier(inputNode)
        if var sum = grads.removeValue(forKey: key) {
          sum.accumulate(p)
          grads[key] = sum
        } else {
          grads[key] = p
        }
      }
    }
    return inputs.map { x in grads[ObjectIdentifier(x.node!)] ?? Tensor.zeros(x.shape) }
  }
  return createGraph ? Recording.$isEnabled.withValue(true, operation: run) : withoutGradients(run)
}

/// `node`'s pullback of `g` in a last (unrecorded) backward pass, each needed input's gradient
/// added by its kernel into that input's sum in `grads` (`Op.pullback(_:inputs:output:needs:into:)`).
private func addPullback(
  of node: Node, _ g: Tensor, output: Tensor, needs: [Bool], into grads: inout [ObjectIdentifier: Tensor]
) {
  let keys = node.inputs.map { $0.node.map(ObjectIdentifier.init) }
  // An input that appears twice gets its sum at its first place, nil at the second.
  var sums = node.inputs.indices.map { i in needs[i] ? grads.removeValue(forKey: keys[i]!) : nil }
  node.op.pullback(g, inputs: node.inputs, output: output, needs: needs, into: &sums)
  for i in node.inputs.indices where needs[i] {
    PendingGradient.add(sums[i]!, to: &grads[keys[i]!], shape: node.inputs[i].shape)
  }
}

/// The part of a graph that lies between an output and a set of target leaves, in topological
/// order (inputs before the nodes that use them).
private struct BackwardGraph {
  var order: [(Node, Tensor)] = []
  private var reaching = Set<ObjectIdentifier>()
  private let targets: Set<ObjectIdentifier>

  init(root: Tensor, targets: [Node]) {
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
  }

  func reaches(_ node: Node?) -> Bool {
    node.map { reaching.contains(ObjectIdentifier($0)) } ?? false
  }

  func isTarget(_ id: ObjectIdentifier) -> Bool { targets.contains(id) }
}
