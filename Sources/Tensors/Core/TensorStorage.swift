/// An immutable, contiguous block of Float32 scalars shared by the tensors that view it.
///
/// Storage is written once, by the kernel that creates it, and never mutated afterwards, which is
/// what makes `Tensor` safe to send between threads.
final class TensorStorage: @unchecked Sendable {
  let base: UnsafeMutablePointer<Float>
  let count: Int

  /// Uninitialised storage: the caller writes every element before publishing it.
  init(count: Int) {
    precondition(count >= 0, "negative element count")
    self.count = count
    self.base = .allocate(capacity: Swift.max(count, 1))
  }

  /// Storage with every element set to `value`.
  convenience init(count: Int, repeating value: Float) {
    self.init(count: count)
    base.initialize(repeating: value, count: count)
  }

  convenience init<C: Collection>(_ scalars: C) where C.Element == Float {
    self.init(count: scalars.count)
    var i = 0
    for s in scalars {
      base[i] = s
      i += 1
    }
  }

  deinit { base.deallocate() }

  var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: base, count: count) }
}
