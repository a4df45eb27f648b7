extension Kernels {
  /// `g·y·(1 − y)` into `out` for `y = σ(x)`: the gradient through a sigmoid, an elementwise pass.
  static func sigmoidGradient(
    _ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, count: Int, into out: Destination
  ) {
    elementwise(count) { range in
      out.write(range) { i in g[i] * y[i] * (1 - y[i]) }
    }
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
    elementwise(count) { range in
      out.write(range) { i in g[i] * up[i] * (1 - 2 * y[i]) }
    }
  }
}
