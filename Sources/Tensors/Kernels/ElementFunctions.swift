#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A function of one element, as a type: a pass generic over it is specialised for it, so the
/// function is inlined (and the loop vectorised) in each thread's part of a parallel pass, where
/// a closure would be called element by element.
protocol UnaryElementFunction {
  func callAsFunction(_ x: Float) -> Float
}

/// A function of two elements, as a type (see `UnaryElementFunction`).
protocol BinaryElementFunction {
  func callAsFunction(_ a: Float, _ b: Float) -> Float
}

/// Any closure, called element by element: for the rarer functions, which call libm anyway.
struct ElementClosure: UnaryElementFunction {
  let f: (Float) -> Float
  @inline(__always) func callAsFunction(_ x: Float) -> Float { f(x) }
}

struct ElementClosure2: BinaryElementFunction {
  let f: (Float, Float) -> Float
  @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { f(a, b) }
}

enum ElementFunction {
  struct Affine: UnaryElementFunction {
    let scale: Float, shift: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { scale * x + shift }
  }

  struct Square: UnaryElementFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x * x }
  }

  struct Identity: UnaryElementFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x }
  }

  struct SquareRoot: UnaryElementFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x.squareRoot() }
  }

  struct Absolute: UnaryElementFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.abs(x) }
  }

  struct Clamp: UnaryElementFunction {
    let lo: Float, hi: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.min(Swift.max(x, lo), hi) }
  }

  struct ReLU: UnaryElementFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x > 0 ? x : 0 }
  }

  struct LeakyReLU: UnaryElementFunction {
    let slope: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x > 0 ? x : slope * x }
  }

  /// 1/(1 + e^−v) for v ≥ 0 and e^v/(1 + e^v) below, without a branch on the sign (random
  /// signs mispredict half the time): the same two expressions, so the same values.
  struct Sigmoid: UnaryElementFunction {
    @inline(__always) func callAsFunction(_ v: Float) -> Float {
      let e = expf(-Swift.abs(v))
      let d = 1 + e
      return v >= 0 ? 1 / d : e / d
    }
  }

  struct Add: BinaryElementFunction {
    @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a + b }
  }

  struct Subtract: BinaryElementFunction {
    @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a - b }
  }

  struct Multiply: BinaryElementFunction {
    @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b }
  }

  struct Divide: BinaryElementFunction {
    @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a / b }
  }
}
