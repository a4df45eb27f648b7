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
    let adding = !Recording.isEnabled
    let graph = BackwardGraph(root: output, targets: inputs.map { $0.node! }, pairing: adding)
    var grads = [ObjectIdentifier: Tensor]()
    grads[ObjectIdentifier(root)] = seed
    for place in graph.order.indices.reversed() {
      let (node, value) = graph.order[place]
      let id = ObjectIdentifier(node)
      guard let g = grads[id] else { continue }
      if case .leaf = node.op { continue }
      if !graph.isTarget(id) { grads[id] = nil }  // free what is no longer needed
      if adding, let partner = graph.partner(before: place), !graph.isTarget(ObjectIdentifier(partner)),
        let partnerGradient = grads.removeValue(forKey: ObjectIdentifier(partner))
      {
        addPairPullback((node, g), (partner, partnerGradient), graph, into: &grads)
        continue
      }
      let needs = node.inputs.map { graph.reaches($0.node) }
      if adding, node.op.addsIntoSums {
        addPullback(of: node, needs: needs, into: &grads) {
          node.op.pullback(g, inputs: node.inputs, output: value, needs: needs, into: &$0)
        }
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

/// `node`'s pullback in a last (unrecorded) backward pass: `pullback` adds each needed input's
/// gradient by its kernel into that input's sum, which it finds in its argument, taken from `grads`
/// (`Op.pullback(_:inputs:output:needs:into:)`).
private func addPullback(
  of node: Node, needs: [Bool], into grads: inout [ObjectIdentifier: Tensor], _ pullback: (inout [Tensor?]) -> Void
) {
  let keys = node.inputs.map { $0.node.map(ObjectIdentifier.init) }
  // An input that appears twice gets its sum at its first place, nil at the second.
  var sums = node.inputs.indices.map { i in needs[i] ? grads.removeValue(forKey: keys[i]!) : nil }
  pullback(&sums)
  for i in node.inputs.indices where needs[i] {
    PendingGradient.add(sums[i]!, to: &grads[keys[i]!], shape: node.inputs[i].shape)
  }
}

/// A batch-norm input gradient's and weight gradient's pullbacks at once (`BackwardGraph`
/// pairs them), each node given with its gradient: the weight gradient's inputs are among the
/// input gradient's, so their sums are the input gradient's.
private func addPairPullback(
  _ one: (Node, Tensor), _ other: (Node, Tensor), _ graph: BackwardGraph, into grads: inout [ObjectIdentifier: Tensor]
) {
  let ((node, u), (_, w)) = if case .batchNormInputGradient = one.0.op { (one, other) } else { (other, one) }
  guard case .batchNormInputGradient(let epsilon) = node.op else { preconditionFailure("not a batch-norm pair") }
  let needs = node.inputs.map { graph.reaches($0.node) }
  addPullback(of: node, needs: needs, into: &grads) {
    Op.batchNormPairPullback(u, w, inputs: node.inputs, epsilon: epsilon, needs: needs, into: &$0)
  }
}
