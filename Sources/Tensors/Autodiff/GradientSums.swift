extension Tensor {
  /// `self + other` for a tensor of the same shape: written into this tensor's own storage when
  /// nothing else holds it and neither is in a graph (a backward pass's sums of gradients), so no
  /// new storage is made; a new tensor otherwise.
  mutating func accumulate(_ other: Tensor) {
    guard other.shape == shape, other.node == nil, takesInPlace() else {
      self = self + other
      return
    }
    Kernels.accumulate(other.storage.base, into: storage.base, count: scalarCount)
  }

  /// `self += other.padded(...)`: `other` added into the box of `self` that starts at `starts`
  /// (of `other`'s shape), in place under the same conditions as `accumulate(_:)`. A slice's
  /// gradient then costs its own size, not its source's: DenseNet-121's last backward pass padded
  /// 58 such gradients an evaluation to full size, mostly zeros, and added them whole.
  mutating func accumulate(_ other: Tensor, at starts: [Int]) {
    let ends = zip(starts, other.shape).map { $0 + $1 }
    precondition(
      starts.count == rank && other.rank == rank && starts.allSatisfy { $0 >= 0 }
        && zip(ends, shape).allSatisfy { $0 <= $1 },
      "accumulate(at:): \(other.shape) at \(starts) does not fit in \(shape)")
    guard other.node == nil, takesInPlace() else {
      self = self + other.padded(before: starts, after: zip(shape, ends).map { $0 - $1 })
      return
    }
    let own = Shape.strides(shape)
    Kernels.copy(
      other.storage.base, strides: Shape.strides(other.shape),
      into: storage.base + Shape.offset(of: starts, strides: own), strides: own, shape: other.shape, adding: true)
  }

  /// Whether values may be added into this tensor's own storage: nothing else holds it and it is
  /// in no graph (a backward pass's sums of gradients). If so, the layouts and statistics kept
  /// with the old values are dropped.
  fileprivate mutating func takesInPlace() -> Bool {
    guard node == nil, isKnownUniquelyReferenced(&storage) else { return false }
    storage.derived.withLock { $0.removeAll() }
    return true
  }
}

/// One input's gradient as a kernel of a last (unrecorded) backward pass writes it: added into
/// the sum of that input's gradients so far where that sum may take it in place, else written to
/// new storage (and added to the sum afterwards, if there is one). DenseNet-121's last backward
/// pass summed 118 M elements an evaluation in passes of their own, each gradient written, read
/// back, and added.
struct PendingGradient {
  /// Where the kernel puts the gradient.
  let destination: Kernels.Destination
  private let written: Tensor
  /// The sum so far, when the gradient could not be added into it in place.
  private let sum: Tensor?

  /// Takes the sum so far out of `sum` (leaving nil), for a gradient of `shape`.
  init(adding sum: inout Tensor?, shape: [Int]) {
    var existing = Self.take(&sum)
    if existing?.shape == shape, existing!.takesInPlace() {
      (written, self.sum) = (existing!, nil)
      destination = Kernels.Destination(written.storage.base, adding: true)
    } else {
      let storage = TensorStorage(count: Shape.count(shape))
      (written, self.sum) = (Tensor(shape: shape, storage: storage), existing)
      destination = Kernels.Destination(storage.base)
    }
  }

  /// What `sum` held, leaving it nil: the caller's the only hold on it then (bound to a copy
  /// kept in `sum`, a tensor's storage would have two holders and never be written in place).
  private static func take(_ sum: inout Tensor?) -> Tensor? {
    var taken: Tensor? = nil
    swap(&taken, &sum)
    return taken
  }

  /// The sum with the gradient in it, once the kernel has run.
  func finished() -> Tensor {
    guard var sum else { return written }
    sum.accumulate(written)
    return sum
  }

  /// `sum + partial` into `sum` (nil: none yet), `partial` summed down to `shape` first if it is
  /// broadcast: a gradient no kernel adds in place (a per-channel weight's).
  static func add(_ partial: Tensor, to sum: inout Tensor?, shape: [Int]) {
    let p = partial.shape == shape ? partial : partial.summed(toShape: shape)
    guard var existing = take(&sum) else {
      sum = p
      return
    }
    existing.accumulate(p)
    sum = existing
  }

  /// `sum + partial.padded(...)` into `sum`, `partial` lying from `starts` in a tensor of `shape`
  /// (nil: none yet, zeros then, as padding writes them): a slice's gradient.
  static func add(_ partial: Tensor, at starts: [Int], to sum: inout Tensor?, shape: [Int]) {
    var existing = take(&sum) ?? Tensor.zeros(shape)
    existing.accumulate(partial, at: starts)
    sum = existing
  }
}
