/// `Σ (a − b)²` over all elements, as one op: a gradient distance's term for one layer, where the
/// difference and its square, each as large as the layer, are never stored (ResNet-18's 11M
/// parameters made them two of the largest passes of a DLG evaluation). Its rule is
/// `2(a − b)·g` and its negation.
public func squaredDistance(_ a: Tensor, _ b: Tensor) -> Tensor {
  precondition(a.shape == b.shape, "squaredDistance: \(a.shape) ≠ \(b.shape)")
  let total = Kernels.squaredDistance(a.storage.base, b.storage.base, count: a.scalarCount)
  return Tensor.make(.squaredDistance, [a, b], shape: [], storage: TensorStorage([Float(total)]))
}

/// `k·(a − b)` in one pass, not recorded: the rule of `squaredDistance` in a last backward pass.
func scaledDifference(_ a: Tensor, _ b: Tensor, by k: Float) -> Tensor {
  let out = TensorStorage(count: a.scalarCount)
  let (pa, pb, o) = (a.storage.base, b.storage.base, out.base)
  Kernels.elementwise(a.scalarCount) { range in
    for i in range { o[i] = k * (pa[i] - pb[i]) }
  }
  return Tensor(shape: a.shape, storage: out)
}

extension Kernels {
  /// `Σ (a[i] − b[i])²`, the differences squared in Float and summed in Double lanes, in one part
  /// for each thread.
  static func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
    let parts = Swift.max(1, blasThreads)
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: parts) { partial in
      parallel(parts, work: count) { range in
        for part in range {
          let mine = Kernels.range(ofPart: part, parts: parts, count: count)
          let (lo, hi) = (mine.lowerBound, mine.upperBound)
          var lanes = SIMD8<Double>()
          var i = lo
          while i + 8 <= hi {
            let d = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
              - UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            lanes += SIMD8<Double>(d * d)
            i += 8
          }
          var total = lanes.sum()
          while i < hi {
            let d = a[i] - b[i]
            total += Double(d * d)
            i += 1
          }
          partial[part] = total
        }
      }
      return partial.reduce(0, +)
    }
  }
}
