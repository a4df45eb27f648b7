@testable import Tensors
import Testing
import TestSupport

/// The direct depthwise convolution (average pooling's) against the unfolded one: output, input
/// gradient and filter gradient, over strides, paddings and kernels that overhang the edges,
/// tap by tap and through padded planes (stride 1).
@Suite("Depthwise convolution")
struct DepthwiseTests {
  static let cases: [(batch: Int, input: [Int], kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int))] = [
    (2, [5, 9, 9], (3, 3), (1, 1), (1, 1)),  // Inception's pooling branch
    (1, [4, 8, 8], (2, 2), (2, 2), (0, 0)),  // DenseNet's transition
    (2, [3, 17, 17], (5, 5), (3, 3), (0, 0)),  // Inception's auxiliary head
    (1, [6, 7, 10], (3, 2), (2, 1), (1, 2)),  // uneven strides and paddings
    (3, [2, 4, 5], (5, 5), (1, 1), (2, 2)),  // every window overhangs
    (2, [3, 17, 17], (3, 3), (1, 1), (1, 1)),  // Inception's pooling at 17×17: rows of 8, 8 and 1
    (1, [4, 8, 8], (3, 3), (1, 1), (1, 1)),  // and at 8×8: one whole vector a row
    (2, [2, 6, 11], (3, 2), (1, 1), (0, 1)),  // uneven kernel and padding at stride 1
    (1, [3, 5, 9], (2, 2), (1, 1), (2, 0)),  // padding past the kernel: tap by tap
  ]

  @Test("output, input gradient and filter gradient equal the unfolded ones", arguments: 0..<9, [1, 2])
  func matchesUnfolded(index: Int, threads: Int) {
    let hold = BLASThreadsHold(threads: threads)
    defer { hold.release() }
    let c = Self.cases[index]
    let channels = c.input[0]
    let filter = [channels, 1, c.kernel.0, c.kernel.1]
    let s = ConvShape(
      input: [c.batch] + c.input, filter: filter,
      geometry: ConvGeometry(stride: c.stride, padding: c.padding, groups: channels))
    #expect(Depthwise.serves(s))
    #expect(Depthwise.padsPlanes(s) == (c.stride == (1, 1) && c.padding.0 < c.kernel.0 && c.padding.1 < c.kernel.1))
    var gen = SeededGenerator(seed: UInt64(index + 40))
    let x = Tensor.uniform([c.batch] + c.input, low: -1, high: 1, using: &gen)
    let w = Tensor.uniform(filter, low: -1, high: 1, using: &gen)
    let gy = Tensor.uniform(s.outputShape, low: -1, high: 1, using: &gen)

    let (direct, unfolded) = (TensorStorage(count: Shape.count(s.outputShape), repeating: 9), TensorStorage(count: Shape.count(s.outputShape)))
    Depthwise.conv2d(x.storage.base, w.storage.base, s, into: direct.base)
    Kernels.unfoldedConv2d(x.storage, w.storage, s, into: unfolded.base)
    close(direct, unfolded, "output")

    let (gxDirect, gxUnfolded) = (TensorStorage(count: x.scalarCount, repeating: 9), TensorStorage(count: x.scalarCount))
    Depthwise.conv2dInputGradient(gy.storage.base, w.storage.base, s, into: gxDirect.base)
    Kernels.unfoldedConv2dInputGradient(gy.storage.base, w.storage, s, into: gxUnfolded.base)
    close(gxDirect, gxUnfolded, "input gradient")

    let (gwDirect, gwUnfolded) = (TensorStorage(count: w.scalarCount, repeating: 9), TensorStorage(count: w.scalarCount))
    Depthwise.conv2dFilterGradient(x.storage.base, gy.storage.base, s, into: gwDirect.base)
    Kernels.unfoldedConv2dFilterGradient(x.storage, gy.storage.base, s, into: gwUnfolded.base)
    close(gwDirect, gwUnfolded, "filter gradient")
  }

  @Test("only one-filter-a-channel convolutions go this way")
  func servedShapes() {
    func shape(_ c: Int, _ o: Int, groups: Int) -> ConvShape {
      ConvShape(input: [1, c, 8, 8], filter: [o, c / groups, 3, 3], geometry: ConvGeometry(padding: (1, 1), groups: groups))
    }
    #expect(Depthwise.serves(shape(8, 8, groups: 8)))
    #expect(!Depthwise.serves(shape(8, 16, groups: 8)))  // two filters a channel
    #expect(!Depthwise.serves(shape(8, 8, groups: 4)))
    #expect(!Depthwise.serves(shape(1, 1, groups: 1)))  // one channel: an ordinary convolution
  }

  private func close(_ a: TensorStorage, _ b: TensorStorage, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    var worst: Float = 0
    for i in 0..<a.count { worst = max(worst, abs(a.base[i] - b.base[i]) / max(1, abs(b.base[i]))) }
    #expect(worst < 1e-5, "\(what): largest relative difference \(worst)", sourceLocation: sourceLocation)
  }
}
