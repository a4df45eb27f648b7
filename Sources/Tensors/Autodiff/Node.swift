/// A recorded operation: what was done and to which tensors.
///
/// A node points only at its inputs. It does not hold its own output (which would be a cycle);
/// the backward pass hands the output to the rule instead.
final class Node: @unchecked Sendable {
  let op: Op
  let inputs: [Tensor]

  init(op: Op, inputs: [Tensor]) {
    self.op = op
    self.inputs = inputs
  }
}

/// Whether operations are being recorded, per thread (and per task).
enum Recording {
  @TaskLocal static var isEnabled = true
}

/// Runs `body` without recording any operation: results have no graph, as in an optimizer step
/// or an evaluation. Nests freely.
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
  try Recording.$isEnabled.withValue(false, operation: body)
}

extension Tensor {
  /// Wraps a freshly computed storage as the output of `op`, recording a node when recording is
  /// on and some input takes part in the graph.
  @inline(__always)
  static func make(_ op: Op, _ inputs: [Tensor], shape: [Int], storage: TensorStorage) -> Tensor {
    var tracked = false
    for t in inputs where t.node != nil {
      tracked = true
      break
    }
    if tracked && Recording.isEnabled {
      return Tensor(shape: shape, storage: storage, node: Node(op: op, inputs: inputs))
    }
    return Tensor(shape: shape, storage: storage)
  }
}
