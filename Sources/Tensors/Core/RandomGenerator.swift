/// A seeded pseudo-random generator that gives the same numbers on every run and machine.
///
/// The stream is SplitMix64 (Steele, Lea, Flood 2014) over a 64-bit state: `state += 0x9E3779B97F4A7C15`,
/// then the output mixer `z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) *
/// 0x94D049BB133111EB; z ^ (z >> 31)`. Uniform floats take the top 24 bits of an output
/// (`(z >> 40) * 2^-24`, so every value is exact and lies in [0, 1)); normal floats use the
/// Box–Muller transform on two uniform doubles (top 53 bits), computed in Double and rounded once.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  public private(set) var state: UInt64

  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A Float uniformly distributed in [0, 1), a multiple of 2⁻²⁴.
  public mutating func nextUnitFloat() -> Float {
    Float(next() >> 40) * 0x1p-24
  }

  /// A Double uniformly distributed in [0, 1), a multiple of 2⁻⁵³.
  public mutating func nextUnitDouble() -> Double {
    Double(next() >> 11) * 0x1p-53
  }

  /// A standard normal deviate (Box–Muller, one value per call).
  public mutating func nextNormal() -> Float {
    let u1 = 1 - nextUnitDouble()  // (0, 1]: log stays finite
    let u2 = nextUnitDouble()
    return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
  }
}

// Foundation-free libm access keeps Tensors dependency-light.
#if canImport(Glibc)
  import Glibc
  @inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
  @inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
  import Darwin
  @inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
  @inline(__always) func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
