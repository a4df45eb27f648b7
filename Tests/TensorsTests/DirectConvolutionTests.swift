@testable import Tensors
import Testing

/// The direct convolution (narrow layers, AVX2) against the unfolded one (column matrices and
/// OpenBLAS), which the PyTorch goldens check: output, input gradient and filter gradient, over
/// strides, paddings, kernels and sizes whose positions do not fill the kernel's six-row blocks.
@Suite("Direct convolution")
struct DirectConvolutionTests {
  static let cases: [(batch: Int, input: [Int], filter: [Int], stride: (Int, Int), padding: (Int, Int))] = [
    (3, [3, 32, 32], [12, 3, 5, 5], (2, 2), (2, 2)),  // DLG LeNet's first layer (input gradient by positions)
    (2, [12, 16, 16], [12, 12, 5, 5], (2, 2), (2, 2)),
    (2, [12, 8, 8], [12, 12, 5, 5], (1, 1), (2, 2)),
    (1, [1, 28, 28], [12, 1, 5, 5], (2, 2), (2, 2)),  // MNIST (rows of 14 in windows of 16)
    (2, [3, 40, 37], [10, 3, 3, 3], (1, 1), (1, 1)),  // rows of 37 in windows of 16
    (2, [5, 13, 12], [9, 5, 2, 4], (2, 1), (0, 3)),
    (4, [9, 7, 11], [16, 9, 3, 2], (1, 2), (1, 0)),
    (2, [13, 13, 9], [10, 13, 4, 3], (3, 2), (0, 2)),
    (1, [16, 5, 5], [16, 16, 1, 1], (1, 1), (0, 0)),
    (2, [10, 9, 9], [14, 10, 2, 2], (3, 3), (0, 0)),  // some input phases reached by no tap
    (1, [11, 6, 6], [9, 11, 7, 7], (1, 1), (3, 3)),
  ]

  @Test("output, input gradient and filter gradient equal the unfolded convolution's", arguments: 0..<11)
  func matchesUnfolded(index: Int) throws {
    try #require(DirectConvolution.available, "this CPU has no AVX2/FMA: the direct kernel never runs here")
    let c = Self.cases[index]
    let geo = ConvGeometry(stride: c.stride, padding: c.padding)
    let s = ConvShape(input: [c.batch] + c.input, filter: c.filter, geometry: geo)
    var gen = SeededGenerator(seed: UInt64(index + 40))
    let x = Tensor.uniform([c.batch] + c.input, low: -1, high: 1, using: &gen)
    let w = Tensor.uniform(c.filter, low: -1, high: 1, using: &gen)
    let gy = Tensor.uniform(s.outputShape, low: -1, high: 1, using: &gen)
    #expect(DirectConvolution.servesForward(s))

    let direct = TensorStorage(count: Shape.count(s.outputShape))
    let unfolded = TensorStorage(count: Shape.count(s.outputShape))
    DirectConvolution.conv2d(x.storage, w.storage.base, s, into: direct.base)
    Kernels.unfoldedConv2d(x.storage, w.storage, s, into: unfolded.base)
    close(direct, unfolded, "output")

    let gwDirect = TensorStorage(count: w.scalarCount)
    let gwUnfolded = TensorStorage(count: w.scalarCount)
    DirectConvolution.conv2dFilterGradient(x.storage, gy.storage.base, s, into: gwDirect.base)
    Kernels.unfoldedConv2dFilterGradient(x.storage, gy.storage.base, s, into: gwUnfolded.base)
    close(gwDirect, gwUnfolded, "filter gradient")

    #expect(DirectConvolution.servesInputGradient(s))
    // Both overwrite what is there.
    let gxDirect = TensorStorage(count: x.scalarCount, repeating: 0.5)
    let gxUnfolded = TensorStorage(count: x.scalarCount, repeating: -7)
    DirectConvolution.conv2dInputGradient(gy.storage.base, w.storage.base, s, into: gxDirect.base)
    Kernels.unfoldedConv2dInputGradient(gy.storage.base, w.storage, s, into: gxUnfolded.base)
    close(gxDirect, gxUnfolded, "input gradient")
  }

  @Test("only narrow, ungrouped layers go direct")
  func servedShapes() {
    let narrow = ConvShape(input: [1, 12, 8, 8], filter: [12, 12, 3, 3], geometry: ConvGeometry(padding: (1, 1)))
    let wide = ConvShape(input: [1, 64, 8, 8], filter: [64, 64, 3, 3], geometry: ConvGeometry(padding: (1, 1)))
    let grouped = ConvShape(input: [1, 12, 8, 8], filter: [12, 6, 3, 3], geometry: ConvGeometry(groups: 2))
    #expect(DirectConvolution.serves(narrow, channels: 12) == DirectConvolution.available)
    #expect(!DirectConvolution.serves(narrow, channels: 3))
    let image = ConvShape(input: [1, 3, 32, 32], filter: [12, 3, 5, 5], geometry: ConvGeometry(stride: (2, 2)))
    let tiny = ConvShape(input: [1, 3, 7, 7], filter: [12, 3, 3, 3], geometry: ConvGeometry())
    let wideOut = ConvShape(input: [1, 3, 32, 32], filter: [64, 3, 3, 3], geometry: ConvGeometry())
    #expect(DirectConvolution.servesInputGradient(image) == DirectConvolution.available)
    #expect(!DirectConvolution.servesInputGradient(tiny))  // rows of 7: fewer than half the lanes
    #expect(!DirectConvolution.servesInputGradient(wideOut))
    #expect(!DirectConvolution.serves(wide, channels: 64))
    #expect(!DirectConvolution.serves(grouped, channels: 12))
  }

  private func close(_ a: TensorStorage, _ b: TensorStorage, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    var worst: Float = 0
    for i in 0..<a.count { worst = max(worst, abs(a.base[i] - b.base[i]) / max(1, abs(b.base[i]))) }
    #expect(worst < 1e-4, "\(what): largest relative difference \(worst)", sourceLocation: sourceLocation)
  }
}
