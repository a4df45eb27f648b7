extension Kernels {
  /// `g·y·(1 − y)` into `out` for `y = σ(x)`: the gradient through a sigmoid, an elementwise pass.
  static func sigmoidGradient(
    _ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, count: Int, into out: Destination
  ) {
    elementwise(count) { range in sigmoidGradient(y, g, range, into: out) }
  }

  /// `sigmoidGradient` over `run`, on this thread.
  @inline(__always)
  private static func sigmoidGradient(
    _ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ run: Range<Int>, into out: Destination
  ) {
    out.write(run) { i in g[i] * y[i] * (1 - y[i]) }
  }

  /// `g` where `x > 0`, else 0, into `out`: the gradient through a ReLU.
  static func reluGradient(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, count: Int, into out: Destination) {
    elementwise(count) { range in
      out.write(range) { i in x[i] > 0 ? g[i] : 0 }
    }
  }

  /// `g·up·(1 − 2y)` into `out`: the pullback of `sigmoidGradient` to its output argument.
  static func sigmoidCurvature(
    _ y: UnsafePointer<Float>, _ up: UnsafePointer<Float>, _ g: UnsafePointer<Float>, count: Int,
    into out: Destination
  ) {
    elementwise(count) { range in sigmoidCurvature(y, up, g, range, into: out) }
  }

  /// `sigmoidCurvature` over `run`, on this thread.
  @inline(__always)
  private static func sigmoidCurvature(
    _ y: UnsafePointer<Float>, _ up: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ run: Range<Int>,
    into out: Destination
  ) {
    out.write(run) { i in g[i] * up[i] * (1 - 2 * y[i]) }
  }

  /// `sigmoidCurvature(y, up, g)` into `curvature` and `sigmoidGradient(y, g)` into `gradient`,
  /// the pullback of `sigmoidGradient` to both its arguments, in one pass: a run of `y` and `g`
  /// read from memory once and then again from the first-level cache, not twice from memory.
  static func sigmoidGradientPullback(
    _ y: UnsafePointer<Float>, _ up: UnsafePointer<Float>, _ g: UnsafePointer<Float>, count: Int,
    curvature: Destination, gradient: Destination
  ) {
    elementwise(count) { range in
      for start in stride(from: range.lowerBound, to: range.upperBound, by: cachedRun) {
        let run = start..<Swift.min(start + cachedRun, range.upperBound)
        sigmoidCurvature(y, up, g, run, into: curvature)
        sigmoidGradient(y, g, run, into: gradient)
      }
    }
  }

  /// Elements of a run that two loops over the same arrays take in turn: 4 KiB of each of
  /// five arrays, within a core's first-level cache.
  static let cachedRun = 1 << 10
}
