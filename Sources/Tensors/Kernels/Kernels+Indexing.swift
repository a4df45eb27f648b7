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
  /// `torch.sort(stable=True)` gives it. Floats become order-preserving 32-bit keys packed above
  /// their index; long lanes sort by three 11-bit radix passes, short ones by comparison.
  static func stableArgsort(_ values: [Float], descending: Bool, into order: inout [Int]) {
    let n = values.count
    var packed = [UInt64](repeating: 0, count: n)
    for k in 0..<n {
      let v = values[k]
      var key = UInt32.max
      if !v.isNaN {
        let bits = (v == 0 ? 0 : v).bitPattern  // -0 sorts as +0
        key = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        if descending { key = ~key }
      }
      packed[k] = UInt64(key) << 32 | UInt64(k)
    }
    if n < 512 {
      packed.sort()
    } else {
      // Three passes of 11 bits over the 32-bit key; one read counts all three digits.
      var counts = [Int](repeating: 0, count: 3 * 2048)
      for p in packed {
        counts[Int(p >> 32 & 0x7FF)] += 1
        counts[2048 + Int(p >> 43 & 0x7FF)] += 1
        counts[4096 + Int(p >> 54)] += 1
      }
      var other = [UInt64](repeating: 0, count: n)
      counts.withUnsafeMutableBufferPointer { counts in
        for pass in 0..<3 {
          let shift = UInt64(32 + 11 * pass)
          let offsets = UnsafeMutableBufferPointer(rebasing: counts[(pass * 2048)..<((pass + 1) * 2048)])
          if offsets.contains(n) { continue }  // every key shares this digit
          var total = 0
          for b in 0..<2048 { (offsets[b], total) = (total, total + offsets[b]) }
          packed.withUnsafeBufferPointer { from in
            other.withUnsafeMutableBufferPointer { to in
              for p in from {
                let b = Int(p >> shift & 0x7FF)
                to[offsets[b]] = p
                offsets[b] += 1
              }
            }
          }
          swap(&packed, &other)
        }
      }
    }
    for k in 0..<n { order[k] = Int(packed[k] & 0xFFFF_FFFF) }
  }
}
