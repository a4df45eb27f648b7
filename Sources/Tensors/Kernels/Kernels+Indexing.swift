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
