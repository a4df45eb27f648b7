#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension Tensor {
  /// Applies `f` to each element and records `op`.
  @inline(__always)
  func map<F: UnaryElementFunction>(_ op: Op, _ f: F) -> Tensor {
    let out = TensorStorage(count: scalarCount)
    let src = storage.base
    let dst = out.base
    Kernels.elementwise(scalarCount) { range in
      for i in range { dst[i] = f(src[i]) }
    }
    return Tensor.make(op, [self], shape: shape, storage: out)
  }

  /// Combines two tensors elementwise with NumPy broadcasting and records `op`.
  @inline(__always)
  static func combine<F: BinaryElementFunction>(_ op: Op, _ a: Tensor, _ b: Tensor, _ f: F) -> Tensor {
    guard let shape = Shape.broadcast(a.shape, b.shape) else {
      preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast")
    }
    let out = TensorStorage(count: Shape.count(shape))
    Kernels.broadcast(a.storage.base, a.shape, b.storage.base, b.shape, into: out.base, shape: shape, f)
    return make(op, [a, b], shape: shape, storage: out)
  }

  /// A constant (non-differentiable) elementwise result, such as a mask.
  @inline(__always)
  func constantMap(_ f: (Float) -> Float) -> Tensor {
    let out = TensorStorage(count: scalarCount)
    for i in 0..<scalarCount { out.base[i] = f(storage.base[i]) }
    return Tensor(shape: shape, storage: out)
  }

  /// `scale * self + shift`, one op.
  public func affine(scale: Float, shift: Float = 0) -> Tensor {
    map(.affine(scale: scale, shift: shift), ElementFunction.Affine(scale: scale, shift: shift))
  }

  public func exp() -> Tensor { map(.exp, ElementClosure { expf($0) }) }
  public func log() -> Tensor { map(.log, ElementClosure { logf($0) }) }
  public func sqrt() -> Tensor { map(.sqrt, ElementFunction.SquareRoot()) }
  public func abs() -> Tensor { map(.abs, ElementFunction.Absolute()) }
  /// Raises every element to a constant power.
  public func pow(_ exponent: Float) -> Tensor {
    if exponent == 2 { return map(.power(2), ElementFunction.Square()) }
    if exponent == 1 { return map(.power(1), ElementFunction.Identity()) }
    if exponent == 0.5 { return map(.power(0.5), ElementFunction.SquareRoot()) }
    return map(.power(exponent), ElementClosure { powf($0, exponent) })
  }
  /// Limits every element to `[min, max]`; the gradient is zero outside.
  public func clamped(min lo: Float = -.infinity, max hi: Float = .infinity) -> Tensor {
    map(.clamp(min: lo, max: hi), ElementFunction.Clamp(lo: lo, hi: hi))
  }
  /// −1, 0 or 1 by sign; a constant (its derivative is zero almost everywhere).
  public func sign() -> Tensor { constantMap { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) } }

  public static prefix func - (x: Tensor) -> Tensor { x.affine(scale: -1) }
  public static func + (a: Tensor, b: Tensor) -> Tensor { combine(.add, a, b, ElementFunction.Add()) }
  public static func - (a: Tensor, b: Tensor) -> Tensor { combine(.subtract, a, b, ElementFunction.Subtract()) }
  public static func * (a: Tensor, b: Tensor) -> Tensor { combine(.multiply, a, b, ElementFunction.Multiply()) }
  public static func / (a: Tensor, b: Tensor) -> Tensor { combine(.divide, a, b, ElementFunction.Divide()) }
  public static func + (a: Tensor, b: Float) -> Tensor { a.affine(scale: 1, shift: b) }
  public static func + (a: Float, b: Tensor) -> Tensor { b.affine(scale: 1, shift: a) }
  public static func - (a: Tensor, b: Float) -> Tensor { a.affine(scale: 1, shift: -b) }
  public static func - (a: Float, b: Tensor) -> Tensor { b.affine(scale: -1, shift: a) }
  public static func * (a: Tensor, b: Float) -> Tensor { a.affine(scale: b) }
  public static func * (a: Float, b: Tensor) -> Tensor { b.affine(scale: a) }
  public static func / (a: Tensor, b: Float) -> Tensor { a.affine(scale: 1 / b) }
  public static func / (a: Float, b: Tensor) -> Tensor { Tensor(a) / b }

  public static func += (a: inout Tensor, b: Tensor) { a = a + b }

  public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
  public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
}

public func exp(_ x: Tensor) -> Tensor { x.exp() }
public func log(_ x: Tensor) -> Tensor { x.log() }
public func sqrt(_ x: Tensor) -> Tensor { x.sqrt() }
public func abs(_ x: Tensor) -> Tensor { x.abs() }
public func pow(_ x: Tensor, _ exponent: Float) -> Tensor { x.pow(exponent) }

public func sigmoid(_ x: Tensor) -> Tensor {
  let out = TensorStorage(count: x.scalarCount)
  Kernels.sigmoid(x.storage.base, count: x.scalarCount, into: out.base)
  return Tensor.make(.sigmoid, [x], shape: x.shape, storage: out)
}
/// `upstream · y · (1 − y)` for `y = sigmoid(x)`: the gradient through a sigmoid, as one op.
public func sigmoidGradient(output y: Tensor, upstream g: Tensor) -> Tensor {
  precondition(y.shape == g.shape, "sigmoidGradient: \(y.shape) ≠ \(g.shape)")
  let out = TensorStorage(count: y.scalarCount)
  Kernels.sigmoidGradient(y.storage.base, g.storage.base, count: y.scalarCount, into: .init(out.base))
  return Tensor.make(.sigmoidGradient, [y, g], shape: y.shape, storage: out)
}

/// `g` where `x > 0`, else 0 (as PyTorch's `threshold_backward`: 0 where `x ≤ 0` or NaN, whatever
/// `g` holds there): ReLU's backward.
public func reluGradient(input x: Tensor, upstream g: Tensor) -> Tensor {
  precondition(x.shape == g.shape, "reluGradient: \(x.shape) ≠ \(g.shape)")
  let out = TensorStorage(count: x.scalarCount)
  Kernels.reluGradient(x.storage.base, g.storage.base, count: x.scalarCount, into: .init(out.base))
  return Tensor.make(.reluGradient, [x, g], shape: x.shape, storage: out)
}

public func tanh(_ x: Tensor) -> Tensor { x.map(.tanh, ElementClosure { tanhf($0) }) }
public func relu(_ x: Tensor) -> Tensor { x.map(.relu, ElementFunction.ReLU()) }
public func leakyRelu(_ x: Tensor, slope: Float = 0.01) -> Tensor {
  x.map(.leakyRelu(slope: slope), ElementFunction.LeakyReLU(slope: slope))
}

// Comparisons give constant 0/1 tensors with broadcasting.
infix operator .> : ComparisonPrecedence
infix operator .< : ComparisonPrecedence
infix operator .>= : ComparisonPrecedence
infix operator .<= : ComparisonPrecedence
infix operator .== : ComparisonPrecedence

extension Tensor {
  static func compare(_ a: Tensor, _ b: Tensor, _ f: @escaping (Float, Float) -> Bool) -> Tensor {
    combine(.add, a.detached(), b.detached(), ElementClosure2 { f($0, $1) ? 1 : 0 })
  }
  public static func .> (a: Tensor, b: Tensor) -> Tensor { compare(a, b, >) }
  public static func .< (a: Tensor, b: Tensor) -> Tensor { compare(a, b, <) }
  public static func .>= (a: Tensor, b: Tensor) -> Tensor { compare(a, b, >=) }
  public static func .<= (a: Tensor, b: Tensor) -> Tensor { compare(a, b, <=) }
  public static func .== (a: Tensor, b: Tensor) -> Tensor { compare(a, b, ==) }
  public static func .> (a: Tensor, b: Float) -> Tensor { a.constantMap { $0 > b ? 1 : 0 } }
  public static func .< (a: Tensor, b: Float) -> Tensor { a.constantMap { $0 < b ? 1 : 0 } }
  public static func .>= (a: Tensor, b: Float) -> Tensor { a.constantMap { $0 >= b ? 1 : 0 } }
  public static func .<= (a: Tensor, b: Float) -> Tensor { a.constantMap { $0 <= b ? 1 : 0 } }
  public static func .== (a: Tensor, b: Float) -> Tensor { a.constantMap { $0 == b ? 1 : 0 } }
}

/// Picks `a` where `condition` is non-zero and `b` elsewhere, with broadcasting.
public func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
  guard let ab = Shape.broadcast(a.shape, b.shape), let shape = Shape.broadcast(condition.shape, ab)
  else { preconditionFailure("where: shapes \(condition.shape), \(a.shape), \(b.shape) do not broadcast") }
  let out = TensorStorage(count: Shape.count(shape))
  Kernels.select(
    condition.storage.base, condition.shape, a.storage.base, a.shape, b.storage.base, b.shape,
    into: out.base, shape: shape)
  return Tensor.make(.select, [condition.detached(), a, b], shape: shape, storage: out)
}
