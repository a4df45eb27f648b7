import CGatherProduct
@testable import Tensors
import Testing

/// Max pooling's vector kernel (`fedsim_max_positions`, eight windows at a time) against the
/// scalar rule (`maxPositions`), position for position, on planes with many equal values and
/// NaNs, over kernels, strides and paddings that leave clipped windows on every side and rows
/// of fewer than eight whole windows.
@Suite("Max pooling positions")
struct MaxPositionsTests {
  @Test(
    "the vector kernel chooses what the scalar rule chooses",
    arguments: [
      (3, 2, 1), (3, 2, 0), (2, 2, 0), (3, 1, 1), (5, 3, 2), (1, 1, 0), (4, 1, 2), (3, 3, 0),
    ])
  func sameAsScalar(kernel: Int, stride: Int, padding: Int) throws {
    try #require(fedsim_gather_product_available() == 1, "no AVX2 on this CPU: nothing to compare")
    var gen = SeededGenerator(seed: UInt64(kernel * 100 + stride * 10 + padding))
    for (h, w) in [(kernel, kernel), (9, 17), (35, 35), (20, 73), (12, 8 * stride + kernel)] where h + 2 * padding >= kernel {
      // Few distinct values, so that windows hold equals; some NaNs.
      let plane = (0..<h * w).map { _ -> Float in
        let r = Int.random(in: 0..<50, using: &gen)
        return r == 0 ? .nan : Float(r % 4) - 1.5
      }
      let (oh, ow) = ((h + 2 * padding - kernel) / stride + 1, (w + 2 * padding - kernel) / stride + 1)
      var scalar = [Float](repeating: -1, count: oh * ow), vector = scalar
      plane.withUnsafeBufferPointer { p in
        scalar.withUnsafeMutableBufferPointer {
          maxPositions(p.baseAddress!, size: (h, w), kernel: kernel, stride: stride, padding: padding, out: (oh, ow), into: $0.baseAddress!)
        }
        vector.withUnsafeMutableBufferPointer {
          fedsim_max_positions(
            p.baseAddress!, Int32(h), Int32(w), Int32(kernel), Int32(stride), Int32(padding), Int32(oh), Int32(ow),
            $0.baseAddress!)
        }
      }
      let differing = scalar.indices.filter { scalar[$0] != vector[$0] }
      #expect(differing.isEmpty, "\(h)×\(w): \(differing.count) of \(oh * ow) windows differ, first at \(differing.first ?? -1)")
    }
  }
}
