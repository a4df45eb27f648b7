@testable import Tensors
import Testing

/// Wide 5×5 stride-1 convolutions as one 3×3 convolution over four shifted inputs (Winograd),
/// against the unfolded 5×5 convolution (column matrices and a product, which the PyTorch goldens
/// check): output, input gradient and filter gradient through autodiff, paddings 0 to 2, odd
/// and uneven sizes, batches. The gradients of gradients are checked by the PyTorch float64
/// golden 15-inception_a (Tests/Fixtures/models), whose 5×5 layer goes this way.
@Suite("5×5 convolutions split into 3×3 blocks")
struct SplitConvolutionTests {
  static let cases: [(batch: Int, input: [Int], outputs: Int, padding: (Int, Int))] = [
    (2, [48, 15, 15], 64, (2, 2)),  // Inception-v3's 5×5, smaller: same size out, odd
    (1, [20, 16, 23], 24, (0, 0)),  // valid, uneven
    (2, [16, 13, 12], 17, (1, 2)),  // padded unevenly
  ]

  @Test("output, input gradient and filter gradient equal the unfolded 5×5 convolution's", arguments: 0..<3)
  func matchesUnfolded(index: Int) throws {
    let c = Self.cases[index]
    let filter = [c.outputs, c.input[0], 5, 5]
    let s = ConvShape(input: [c.batch] + c.input, filter: filter, geometry: ConvGeometry(padding: c.padding))
    #expect(SplitConvolution.split(s) != nil)
    var gen = SeededGenerator(seed: UInt64(index + 290))
    let x = Tensor.uniform([c.batch] + c.input, low: -1, high: 1, using: &gen).requiringGradient()
    let w = Tensor.uniform(filter, low: -1, high: 1, using: &gen).requiringGradient()
    let gy = Tensor.uniform(s.outputShape, low: -1, high: 1, using: &gen)

    let y = conv2d(x, filter: w, geometry: s.geo)
    let unfolded = TensorStorage(count: Shape.count(s.outputShape))
    Kernels.unfoldedConv2d(x.storage, w.storage, s, into: unfolded.base)
    #expect(y.shape == s.outputShape)
    close(y.storage, unfolded, "output")

    let g = gradients(of: y, wrt: [x, w], seed: gy)
    let gx = TensorStorage(count: x.scalarCount, repeating: -7)
    let gw = TensorStorage(count: w.scalarCount, repeating: -7)
    Kernels.unfoldedConv2dInputGradient(gy.storage.base, w.storage, s, into: gx.base)
    Kernels.unfoldedConv2dFilterGradient(x.storage, gy.storage.base, s, into: gw.base)
    close(g[0].storage, gx, "input gradient")
    close(g[1].storage, gw, "filter gradient")
  }

  @Test("only wide 5×5, stride-1, ungrouped layers padded at most 2 whose 3×3 form has the tiles go this way")
  func servedShapes() {
    func shape(_ input: [Int], _ filter: [Int], stride: Int = 1, padding: Int = 2, groups: Int = 1) -> ConvShape {
      ConvShape(input: input, filter: filter, geometry: ConvGeometry(stride: (stride, stride), padding: (padding, padding), groups: groups))
    }
    #expect(SplitConvolution.split(shape([2, 48, 35, 35], [64, 48, 5, 5])) == ConvShape(
      input: [2, 192, 37, 37], filter: [64, 192, 3, 3], geometry: ConvGeometry()))
    #expect(SplitConvolution.split(shape([2, 48, 14, 14], [64, 48, 5, 5])) != nil)  // the golden's
    #expect(SplitConvolution.split(shape([1, 12, 8, 8], [12, 12, 5, 5])) == nil)  // DLG's LeNet: narrow, direct
    #expect(SplitConvolution.split(shape([2, 48, 35, 35], [64, 48, 5, 5], stride: 2)) == nil)
    #expect(SplitConvolution.split(shape([2, 48, 35, 35], [64, 48, 5, 5], padding: 3)) == nil)
    #expect(SplitConvolution.split(shape([2, 48, 35, 35], [64, 24, 5, 5], groups: 2)) == nil)
    #expect(SplitConvolution.split(shape([1, 48, 7, 7], [64, 48, 5, 5])) == nil)  // 16 tiles: too thin
    #expect(SplitConvolution.split(shape([2, 48, 35, 35], [64, 48, 3, 3], padding: 1)) == nil)
  }

  @Test("the shifted stack reads each block where the shifted, padded input lies, and its sum is its adjoint")
  func stackAndAdjoint() throws {
    var gen = SeededGenerator(seed: 31)
    let (n, c, h, w) = (2, 3, 6, 5)
    let x = Tensor.uniform([n, c, h, w], low: -1, high: 1, using: &gen)
    let (padding, size) = ([2, 1], [h + 2, w + 1])
    let stack = shiftedStack(x, padding: padding, size: size)
    #expect(stack.shape == [n, 4 * c, h + 2, w + 1])
    for image in 0..<n {
      for block in 0..<4 {
        for channel in 0..<c {
          for r in 0..<size[0] {
            for j in 0..<size[1] {
              let (sr, sc) = (r + 3 * (block / 2) - padding[0], j + 3 * (block % 2) - padding[1])
              let inside = sr >= 0 && sr < h && sc >= 0 && sc < w
              let expected = inside ? x.storage.base[((image * c + channel) * h + sr) * w + sc] : 0
              let got = stack.storage.base[(((image * 4 + block) * c + channel) * size[0] + r) * size[1] + j]
              #expect(got == expected, "image \(image) block \(block) channel \(channel) at \(r), \(j)")
            }
          }
        }
      }
    }
    // ⟨stack(x), g⟩ = ⟨x, sum(g)⟩ in float64.
    let g = Tensor.uniform(stack.shape, low: -1, high: 1, using: &gen)
    let summed = shiftedSum(g, padding: padding, shape: x.shape)
    let left = zip(stack.scalars, g.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    let right = zip(x.scalars, summed.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    #expect(abs(left - right) < 1e-4 * max(1, abs(left)), "\(left) against \(right)")
  }

  private func close(_ a: TensorStorage, _ b: TensorStorage, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, sourceLocation: sourceLocation)
    var worst: Float = 0
    for i in 0..<min(a.count, b.count) { worst = max(worst, abs(a.base[i] - b.base[i]) / max(1, abs(b.base[i]))) }
    #expect(worst < 5e-5, "\(what): largest relative difference \(worst)", sourceLocation: sourceLocation)
  }
}
