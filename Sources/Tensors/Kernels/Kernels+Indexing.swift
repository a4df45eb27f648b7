/// A tensor seen as [outer, axis, inner] around one axis.
struct AxisView {
  let outer: Int, length: Int, inner: Int

  init(_ shape: [Int], axis: Int) {
    outer = Shape.count(Array(shape[..<axis]))
    length = shape[axis]
    inner = Shape.count(Array(shape[(axis + 1)...]))
  }
}

extension Kernels {
  /// `out[o, j, i] = x[o, index[o, j, i], i]`.
  static func gather(
    _ x: UnsafePointer<Float>, _ xv: AxisView, index: UnsafePointer<Float>, _ iv: AxisView,
    into out: UnsafeMutablePointer<Float>
  ) {
    for o in 0..<iv.outer {
      for j in 0..<iv.length {
        let row = (o * iv.length + j) * iv.inner
        for i in 0..<iv.inner {
          let k = Int(index[row + i])
          precondition(k >= 0 && k < xv.length, "gather: index \(k) out of range 0..<\(xv.length)")
          out[row + i] = x[(o * xv.length + k) * xv.inner + i]
        }
      }
    }
  }

  /// `out[o, index[o, j, i], i] += source[o, j, i]`; `out` already holds the base.
  static func scatterAdd(
    _ source: UnsafePointer<Float>, index: UnsafePointer<Float>, _ iv: AxisView,
    into out: UnsafeMutablePointer<Float>, _ ov: AxisView
  ) {
    for o in 0..<iv.outer {
      for j in 0..<iv.length {
        let row = (o * iv.length + j) * iv.inner
        for i in 0..<iv.inner {
          let k = Int(index[row + i])
          precondition(k >= 0 && k < ov.length, "scatter: index \(k) out of range 0..<\(ov.length)")
          out[(o * ov.length + k) * ov.inner + i] += source[row + i]
        }
      }
    }
  }
}

extension Kernels {
  /// The order that sorts `values` stably (ties keep their index order), NaN last, as
  /// `torch.sort(stable=True)` gives it. Floats become order-preserving 32-bit keys; long lanes
  /// sort by two 16-bit radix passes, short ones by comparing (key, index) pairs.
  static func stableArgsort(_ values: [Float], descending: Bool, into order: inout [Int]) {
    let n = values.count
    var keys = [UInt32](repeating: 0, count: n)
    for k in 0..<n {
      let v = values[k]
      if v.isNaN {
        keys[k] = .max
        continue
      }
      let bits = (v == 0 ? 0 : v).bitPattern  // -0 sorts as +0
      let key = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
      keys[k] = descending ? ~key : key
    }
    if n < 2048 {
      var packed = (0..<n).map { UInt64(keys[$0]) << 32 | UInt64($0) }
      packed.sort()
      for k in 0..<n { order[k] = Int(packed[k] & 0xFFFF_FFFF) }
      return
    }
    var from = [UInt32](0..<UInt32(n))
    var to = [UInt32](repeating: 0, count: n)
    var counts = [Int](repeating: 0, count: 1 << 16)
    for shift in [UInt32(0), 16] {
      for b in counts.indices { counts[b] = 0 }
      for k in 0..<n { counts[Int(keys[Int(from[k])] >> shift & 0xFFFF)] += 1 }
      var total = 0
      for b in counts.indices { (counts[b], total) = (total, total + counts[b]) }
      for k in 0..<n {
        let b = Int(keys[Int(from[k])] >> shift & 0xFFFF)
        to[counts[b]] = from[k]
        counts[b] += 1
      }
      swap(&from, &to)
    }
    for k in 0..<n { order[k] = Int(from[k]) }
  }
}
