import Foundation
@testable import Tensors
import Testing

/// The vectorised `exp` and sigmoid against Double-precision `exp` and the one-at-a-time sigmoid.
@Suite("Vectorised exp and sigmoid")
struct VectorExpTests {
  @Test("exp within 2 ulp of the correctly rounded value over its whole range")
  func expMatchesDouble() {
    var worst: Double = 0
    var x = Double(VectorExp.minimumArgument)
    while x < 88.3 {
      let lanes = SIMD8<Float>((0..<8).map { Float(x + Double($0) * 0.001) })
      let e = VectorExp.exp(lanes)
      for k in 0..<8 {
        let exact = Foundation.exp(Double(lanes[k]))
        worst = max(worst, abs(Double(e[k]) - exact) / Double(Float(exact).ulp))
      }
      x += 0.0173
    }
    #expect(worst <= 2, "largest error \(worst) ulp")
  }

  @Test("sigmoid equals the one-at-a-time sigmoid, NaN, infinities and far arguments included")
  func sigmoidMatchesScalar() {
    var values: [Float] = [0, -0.0, .nan, .infinity, -.infinity, 100, -100, -87.2, -87.4, 88, 1e-30, -1e-30]
    var gen = SeededGenerator(seed: 5)
    values += Tensor.uniform([1001], low: -30, high: 30, using: &gen).scalars
    let x = Tensor(values)
    let out = TensorStorage(count: values.count)
    Kernels.sigmoid(x.storage.base, count: values.count, into: out.base)
    let fast = Array(out.buffer)
    let scalar = ElementFunction.Sigmoid()
    for (v, s) in zip(values, fast) {
      let expected = scalar(v)
      if expected.isNaN {
        #expect(s.isNaN)
      } else {
        #expect(abs(s - expected) <= 2 * expected.ulp, "sigmoid(\(v)) = \(s), one at a time \(expected)")
      }
    }
  }

  @Test("each sigmoid depends on its argument alone: the same bits at every offset in the groups of eight")
  func sigmoidIndependentOfPosition() {
    // Where the threads' ranges fall moves the groups: a far argument or the last partial group
    // must not change how a neighbour is computed.
    var gen = SeededGenerator(seed: 9)
    var values = Tensor.uniform([61], low: -12, high: 12, using: &gen).scalars
    values[5] = -90  // far: one at a time
    values[30] = .nan
    func sigmoid(_ v: [Float]) -> [UInt32] {
      let out = TensorStorage(count: v.count)
      v.withUnsafeBufferPointer { Kernels.sigmoid($0.baseAddress!, count: v.count, into: out.base) }
      return out.buffer.map(\.bitPattern)
    }
    let reference = sigmoid(values)
    for offset in 1..<8 {
      let shifted = sigmoid([Float](repeating: 0.5, count: offset) + values)
      let differing = zip(shifted.dropFirst(offset), reference).filter { $0 != $1 }.count
      #expect(differing == 0, "moved by \(offset): \(differing) of \(reference.count) values differ")
    }
  }
}
