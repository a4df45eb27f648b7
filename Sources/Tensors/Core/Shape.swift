/// The element count of `dimensions` when every one is ≥ 0 and the product stays within
/// `limit`; nil otherwise (a negative dimension, an overflow, more than the bytes present).
/// What file readers check declared shapes with, rather than trapping.
public func checkedElementCount(_ dimensions: [Int], limit: Int) -> Int? {
  var count = 1
  for d in dimensions {
    let (product, overflow) = count.multipliedReportingOverflow(by: d)
    guard d >= 0, !overflow, product <= limit else { return nil }
    count = product
  }
  return count
}

/// Shape arithmetic shared by the ops and kernels.
enum Shape {
  /// The number of elements of a tensor of this shape (1 for a scalar).
  @inline(__always)
  static func count(_ shape: [Int]) -> Int {
    var n = 1
    for d in shape { n &*= d }
    return n
  }

  /// Row-major strides of a contiguous tensor.
  static func strides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
      strides[i] = s
      s &*= shape[i]
    }
    return strides
  }

  /// Where element `index` lies, through `strides`.
  static func offset(of index: [Int], strides: [Int]) -> Int {
    zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 }
  }

  /// NumPy broadcasting of two shapes, or nil when they are incompatible.
  static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = Swift.max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
      let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
      let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
      if da == db || db == 1 {
        out[i] = da
      } else if da == 1 {
        out[i] = db
      } else {
        return nil
      }
    }
    return out
  }

  /// Strides that read a tensor of `shape` as if broadcast to `target` (0 on broadcast axes).
  static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let own = strides(shape)
    let offset = target.count - shape.count
    var out = [Int](repeating: 0, count: target.count)
    for i in 0..<shape.count where shape[i] != 1 || target[i + offset] == 1 {
      out[i + offset] = shape[i] == 1 ? 0 : own[i]
    }
    return out
  }

  /// Normalises a possibly negative axis against `rank`.
  static func axis(_ axis: Int, rank: Int) -> Int {
    let a = axis < 0 ? axis + rank : axis
    precondition(a >= 0 && a < Swift.max(rank, 1), "axis \(axis) out of range for rank \(rank)")
    return a
  }
}
