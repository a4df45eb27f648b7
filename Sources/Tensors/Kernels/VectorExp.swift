/// `eˣ` for eight floats at once, for the passes that call it on every element (the sigmoid,
/// twice a layer in the big-model study): libm's `expf` is called one element at a time.
///
/// Cody and Waite's reduction `x = n·ln 2 + r`, |r| ≤ ½ ln 2, with ln 2 in two parts, then
/// Cephes's degree-5 polynomial for `eʳ` (relative error about 1 ulp; checked against Double
/// `exp` in `VectorExpTests`), scaled by `2ⁿ` through the exponent bits. Valid for
/// `minimumArgument ≤ x ≤ 88.3`; callers send the rest to `expf`.
enum VectorExp {
  /// Below this, `2ⁿ` would leave the normal floats.
  static let minimumArgument: Float = -87.3

  @inline(__always)
  static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // n = round(x·log₂e): added to 1.5·2²³, the float's low bits hold n as an integer.
    let shifted = x * 1.442_695_04 + 12_582_912
    let n = shifted - 12_582_912
    var r = x - n * 0.693_359_375  // ln 2, its first bits: n·this is exact
    r = r - n * -2.121_944_40e-4  // and the rest
    var p = SIMD8<Float>(repeating: 1.987_569_150_0e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let er = p * (r * r) + r + 1
    let exponent = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return er * unsafeBitCast(exponent, to: SIMD8<Float>.self)
  }
}

extension Kernels {
  /// `1/(1 + e⁻ˣ)` elementwise, eight at a time through `VectorExp` (as `ElementFunction.Sigmoid`
  /// computes it one at a time: `e = exp(−|x|)`, then `1/(1 + e)` or `e/(1 + e)`). An argument
  /// past `VectorExp.minimumArgument`, or a NaN, goes one at a time. Each element's value depends
  /// on its argument alone, not on its neighbours or on where the threads' ranges fall: a
  /// range's last partial group is its last eight again, or padded, never computed another way.
  static func sigmoid(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
    let (x, y) = (Shared(UnsafeMutablePointer(mutating: x)), Shared(y))
    elementwise(count) { range in
      sigmoidRun(x.pointer + range.lowerBound, count: range.count, into: y.pointer + range.lowerBound)
    }
  }

  /// `1/(1 + e⁻ᶻ)` of `z = x·scale + shift` for the `count` floats at `x`, on this thread, eight
  /// at a time (as `sigmoid`; 1 and 0 leave every argument as it is, −0 becoming 0, which has
  /// the same sigmoid). A run of eight or more ends with its last eight, again where they
  /// overlap the eight before (each value is its argument's alone, so written twice the same):
  /// a batch-norm plane of 49 or 196 then takes no element one at a time. `y` and `x` do not
  /// overlap.
  @inline(__always)
  static func sigmoidRun(
    _ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>, scale: Float = 1, shift: Float = 0
  ) {
    let (scale, shift) = (SIMD8(repeating: scale), SIMD8(repeating: shift))
    @inline(__always) func eight(at i: Int) {
      let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(y + i).storeBytes(of: sigmoid8(v * scale + shift), as: SIMD8<Float>.self)
    }
    var i = 0
    while i + 8 <= count {
      eight(at: i)
      i += 8
    }
    guard i < count else { return }
    if count >= 8 { return eight(at: count - 8) }
    var v = SIMD8<Float>()
    for k in i..<count { v[k - i] = x[k] }
    let s = sigmoid8(v * scale + shift)
    for k in i..<count { y[k] = s[k - i] }
  }

  @inline(__always)
  private static func sigmoid8(_ v: SIMD8<Float>) -> SIMD8<Float> {
    let a = -(v.replacing(with: -v, where: v .< 0))
    let far = a .< VectorExp.minimumArgument .| a .!= a  // far out, or NaN
    let e = VectorExp.exp(a.replacing(with: 0, where: far))
    let d = 1 + e
    var s = (1 / d).replacing(with: e / d, where: v .< 0)
    if any(far) {
      let scalar = ElementFunction.Sigmoid()
      for l in 0..<8 where far[l] { s[l] = scalar(v[l]) }
    }
    return s
  }
}
