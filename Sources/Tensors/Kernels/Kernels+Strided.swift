/// Plain buffer-to-buffer kernels for strided layouts: broadcasting, copying and reducing.
/// They know nothing of autodiff.
enum Kernels {}

/// A loop nest over `shape` reading up to three operands through their own strides.
/// Axes that every operand walks as one run are merged first, so most loops end up one or two
/// levels deep.
struct StridedLoop {
  var shape: [Int]
  var strides: [[Int]]

  init(shape: [Int], strides: [[Int]]) {
    var outShape: [Int] = []
    var outStrides = [[Int]](repeating: [], count: strides.count)
    for d in 0..<shape.count where shape[d] != 1 {
      if let last = outShape.indices.last,
        strides.indices.allSatisfy({ strides[$0][d] * shape[d] == outStrides[$0][last] })
      {
        outShape[last] *= shape[d]
        for k in strides.indices { outStrides[k][last] = strides[k][d] }
      } else {
        outShape.append(shape[d])
        for k in strides.indices { outStrides[k].append(strides[k][d]) }
      }
    }
    if outShape.isEmpty {
      outShape = [1]
      for k in strides.indices { outStrides[k] = [0] }
    }
    self.shape = outShape
    self.strides = outStrides
  }

  /// Calls `body(offsets, n, innerStrides)` once per innermost run of `n` elements; never for
  /// an empty shape (a zero anywhere), whose buffers hold nothing to read or write.
  @inline(__always)
  func forEachRun(_ body: (_ offsets: UnsafePointer<Int>, _ n: Int, _ inner: UnsafePointer<Int>) -> Void) {
    guard !shape.contains(0) else { return }
    let rank = shape.count
    let k = strides.count
    let n = shape[rank - 1]
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * k + rank) { scratch in
      let offsets = scratch.baseAddress!
      let inner = offsets + k
      let index = inner + k
      for j in 0..<k {
        offsets[j] = 0
        inner[j] = strides[j][rank - 1]
      }
      for d in 0..<rank { index[d] = 0 }
      if rank == 1 {
        body(offsets, n, inner)
        return
      }
      while true {
        body(offsets, n, inner)
        var d = rank - 2
        while d >= 0 {
          index[d] += 1
          for j in 0..<k { offsets[j] += strides[j][d] }
          if index[d] < shape[d] { break }
          for j in 0..<k { offsets[j] -= strides[j][d] * shape[d] }
          index[d] = 0
          d -= 1
        }
        if d < 0 { return }
      }
    }
  }
}

extension Kernels {
  /// `out[i] = f(a[i], b[i])` with NumPy broadcasting; `out` is contiguous of `shape`.
  @inline(__always)
  static func broadcast<F: BinaryElementFunction>(
    _ a: UnsafePointer<Float>, _ aShape: [Int], _ b: UnsafePointer<Float>, _ bShape: [Int],
    into out: UnsafeMutablePointer<Float>, shape: [Int], _ f: F
  ) {
    let n = Shape.count(shape)
    if aShape == bShape {
      elementwise(n) { range in
        for i in range { out[i] = f(a[i], b[i]) }
      }
      return
    }
    if bShape.allSatisfy({ $0 == 1 }) {
      let s = b[0]
      elementwise(n) { range in
        for i in range { out[i] = f(a[i], s) }
      }
      return
    }
    if aShape.allSatisfy({ $0 == 1 }) {
      let s = a[0]
      elementwise(n) { range in
        for i in range { out[i] = f(s, b[i]) }
      }
      return
    }
    let loop = StridedLoop(
      shape: shape,
      strides: [
        Shape.strides(shape), Shape.broadcastStrides(aShape, to: shape),
        Shape.broadcastStrides(bShape, to: shape),
      ])
    if loop.shape.count == 2 {  // a channel's planes against its scalars: rows split over the threads
      let (rows, per) = (loop.shape[0], loop.shape[1])
      let (o, sa, sb) = (loop.strides[0], loop.strides[1], loop.strides[2])
      parallel(rows, work: n) { range in
        for r in range { run(out + r &* o[0], a + r &* sa[0], b + r &* sb[0], per, sa[1], sb[1], f) }
      }
      return
    }
    loop.forEachRun { off, n, inner in
      run(out + off[0], a + off[1], b + off[2], n, inner[1], inner[2], f)
    }
  }

  /// One run of `n` elements of a broadcast: `o[i] = f(pa[i·sa], pb[i·sb])`.
  @inline(__always)
  private static func run<F: BinaryElementFunction>(
    _ o: UnsafeMutablePointer<Float>, _ pa: UnsafePointer<Float>, _ pb: UnsafePointer<Float>, _ n: Int,
    _ sa: Int, _ sb: Int, _ f: F
  ) {
    // Unit strides apart, so the common runs (a channel's plane against its scalar) vectorise.
    if sb == 0 {
      let s = pb[0]
      if sa == 1 {
        for i in 0..<n { o[i] = f(pa[i], s) }
      } else {
        for i in 0..<n { o[i] = f(pa[i &* sa], s) }
      }
    } else if sa == 0 {
      let s = pa[0]
      if sb == 1 {
        for i in 0..<n { o[i] = f(s, pb[i]) }
      } else {
        for i in 0..<n { o[i] = f(s, pb[i &* sb]) }
      }
    } else if sa == 1 && sb == 1 {
      for i in 0..<n { o[i] = f(pa[i], pb[i]) }
    } else {
      for i in 0..<n { o[i] = f(pa[i &* sa], pb[i &* sb]) }
    }
  }

  /// `where(c, a, b)` with broadcasting of all three.
  static func select(
    _ c: UnsafePointer<Float>, _ cShape: [Int], _ a: UnsafePointer<Float>, _ aShape: [Int],
    _ b: UnsafePointer<Float>, _ bShape: [Int], into out: UnsafeMutablePointer<Float>,
    shape: [Int]
  ) {
    let loop = StridedLoop(
      shape: shape,
      strides: [
        Shape.broadcastStrides(cShape, to: shape), Shape.broadcastStrides(aShape, to: shape),
        Shape.broadcastStrides(bShape, to: shape),
      ])
    var o = out
    loop.forEachRun { off, n, inner in
      let (pc, pa, pb) = (c + off[0], a + off[1], b + off[2])
      for i in 0..<n {
        o[i] = pc[i &* inner[0]] != 0 ? pa[i &* inner[1]] : pb[i &* inner[2]]
      }
      o += n
    }
  }

  /// Copies `shape` elements read through `srcStrides` into `dst` written through `dstStrides`:
  /// a large copy (slices, concatenations, paddings) in parallel ranges of its first axis longer
  /// than 1 (one range at one thread, still a pass for `KernelTimes`).
  /// `adding`: adds each element to the one already there (a slice's gradient into its place in
  /// a sum of gradients).
  static func copy(
    _ src: UnsafePointer<Float>, strides srcStrides: [Int], into dst: UnsafeMutablePointer<Float>,
    strides dstStrides: [Int], shape: [Int], adding: Bool = false
  ) {
    let count = Shape.count(shape)
    if count == 0 { return }
    guard count >= parallelCopy, let axis = shape.firstIndex(where: { $0 > 1 }) else {
      return copyRuns(src, strides: srcStrides, into: dst, strides: dstStrides, shape: shape, adding: adding)
    }
    let (s, d) = (Shared(UnsafeMutablePointer(mutating: src)), Shared(dst))
    parallel(shape[axis], work: count) { range in
      var part = shape
      part[axis] = range.count
      copyRuns(
        s.pointer + range.lowerBound * srcStrides[axis], strides: srcStrides,
        into: d.pointer + range.lowerBound * dstStrides[axis], strides: dstStrides, shape: part, adding: adding)
    }
  }

  /// Elements from which a copy is cut between the threads.
  static let parallelCopy = 1 << 15

  /// `copy` on the calling thread, run by run.
  private static func copyRuns(
    _ src: UnsafePointer<Float>, strides srcStrides: [Int], into dst: UnsafeMutablePointer<Float>,
    strides dstStrides: [Int], shape: [Int], adding: Bool
  ) {
    if Shape.count(shape) == 0 { return }
    let loop = StridedLoop(shape: shape, strides: [dstStrides, srcStrides])
    loop.forEachRun { off, n, inner in
      let d = dst + off[0]
      let s = src + off[1]
      let (sd, ss) = (inner[0], inner[1])
      if adding {
        if sd == 1 && ss == 1 {
          for i in 0..<n { d[i] += s[i] }
        } else {
          for i in 0..<n { d[i &* sd] += s[i &* ss] }
        }
      } else if sd == 1 && ss == 1 {
        d.update(from: s, count: n)
      } else if ss == 0 {
        let v = s[0]
        for i in 0..<n { d[i &* sd] = v }
      } else {
        for i in 0..<n { d[i &* sd] = s[i &* ss] }
      }
    }
  }

  /// The sum of `count` floats, accumulated in eight Double lanes (vectorised, and exact enough
  /// that the order of summation does not show at Float32 precision).
  @inline(__always)
  static func sumAll(_ src: UnsafePointer<Float>, count: Int) -> Double {
    var lanes = SIMD8<Double>()
    var i = 0
    while i + 8 <= count {
      let v = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
      lanes += SIMD8<Double>(v)
      i += 8
    }
    var total = lanes.sum()
    while i < count {
      total += Double(src[i])
      i += 1
    }
    return total
  }

  /// Sums a contiguous tensor of `shape` into `out`, whose shape is `shape` with the reduced axes
  /// set to 1. Accumulates in Double.
  static func sum(
    _ src: UnsafePointer<Float>, shape: [Int], into out: UnsafeMutablePointer<Float>,
    reducedShape: [Int]
  ) {
    let outCount = Shape.count(reducedShape)
    let inCount = Shape.count(shape)
    if outCount == 1 {
      out[0] = Float(sumAll(src, count: inCount))
      return
    }
    let acc = UnsafeMutablePointer<Double>.allocate(capacity: outCount)
    defer { acc.deallocate() }
    acc.initialize(repeating: 0, count: outCount)
    if inCount > 0 {
      let loop = StridedLoop(
        shape: shape,
        strides: [Shape.strides(shape), Shape.broadcastStrides(reducedShape, to: shape)])
      if loop.shape.count == 2, loop.strides[1][1] == 0, loop.strides[1][0] != 0, loop.strides[0][1] == 1 {
        // Each row (a channel's plane) to its own sum: rows split over the threads.
        let (per, rowStride, sumStride) = (loop.shape[1], loop.strides[0][0], loop.strides[1][0])
        parallel(loop.shape[0], work: inCount) { rows in
          for r in rows { acc[r &* sumStride] += sumAll(src + r &* rowStride, count: per) }
        }
        for i in 0..<outCount { out[i] = Float(acc[i]) }
        return
      }
      loop.forEachRun { off, n, inner in
        let s = src + off[0]
        let o = acc + off[1]
        if inner[1] == 0 {
          if inner[0] == 1 {
            o[0] += sumAll(s, count: n)  // a contiguous run (a channel's plane): in SIMD lanes
          } else {
            var t = 0.0
            for i in 0..<n { t += Double(s[i &* inner[0]]) }
            o[0] += t
          }
        } else if inner[0] == 1 && inner[1] == 1 {
          for i in 0..<n { o[i] += Double(s[i]) }
        } else {
          for i in 0..<n { o[i &* inner[1]] += Double(s[i &* inner[0]]) }
        }
      }
    }
    for i in 0..<outCount { out[i] = Float(acc[i]) }
  }
}
