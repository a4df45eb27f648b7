@testable import Tensors
import Testing

/// A batched convolution unfolds many samples into one column matrix and runs one product for
/// them all, in chunks when that matrix would be large. Each sample's output and gradients must
/// be what the sample alone gives, whatever the chunking.
@Suite("Batched convolution")
struct ConvolutionChunkTests {
  /// Input, filter and geometry whose batches of 15 and 29 need two chunks, and batches of 5 that fit one.
  static let cases: [(batch: Int, input: [Int], filter: [Int], stride: Int, padding: Int, groups: Int)] = [
    (15, [16, 64, 64], [4, 16, 3, 3], 1, 1, 1),
    (29, [16, 128, 128], [6, 8, 3, 3], 2, 1, 2),
    (5, [3, 14, 14], [12, 3, 5, 5], 2, 2, 1),
    (5, [4, 7, 7], [5, 4, 1, 1], 1, 0, 1),
  ]

  @Test("the batch is split into chunks of at most the limit", arguments: 0..<2)
  func chunking(index: Int) {
    let c = Self.cases[index]
    let s = ConvShape(input: [c.batch] + c.input, filter: c.filter, geometry: ConvGeometry(stride: (c.stride, c.stride), padding: (c.padding, c.padding), groups: c.groups))
    let chunks = Kernels.chunks(s)
    #expect(chunks.count > 1)
    #expect(chunks.map(\.count).reduce(0, +) == c.batch)
    #expect(chunks.allSatisfy { $0.count * s.patch * s.pixels <= Kernels.chunkLimit })
  }

  @Test("output, input gradient and filter gradient equal the per-sample ones", arguments: 0..<4)
  func matchesPerSample(index: Int) {
    let c = Self.cases[index]
    var gen = SeededGenerator(seed: UInt64(index))
    let x = Tensor.uniform([c.batch] + c.input, low: -1, high: 1, using: &gen)
    let w = Tensor.uniform(c.filter, low: -1, high: 1, using: &gen)
    let geo = ConvGeometry(stride: (c.stride, c.stride), padding: (c.padding, c.padding), groups: c.groups)
    let y = conv2d(x, filter: w, geometry: geo)
    let gy = Tensor.uniform(y.shape, low: -1, high: 1, using: &gen)
    let gx = conv2dInputGradient(gy, filter: w, geometry: geo, inputShape: x.shape)
    let gw = conv2dFilterGradient(x, gy, geometry: geo, filterShape: w.shape)
    var gwSum = Tensor.zeros(w.shape)
    for n in 0..<c.batch {
      let xn = x.sliced(alongAxis: 0, n..<(n + 1))
      let gyn = gy.sliced(alongAxis: 0, n..<(n + 1))
      close(y.sliced(alongAxis: 0, n..<(n + 1)), conv2d(xn, filter: w, geometry: geo))
      close(gx.sliced(alongAxis: 0, n..<(n + 1)), conv2dInputGradient(gyn, filter: w, geometry: geo, inputShape: xn.shape))
      gwSum = gwSum + conv2dFilterGradient(xn, gyn, geometry: geo, filterShape: w.shape)
    }
    close(gw, gwSum, tolerance: 1e-3)
  }

  private func close(_ a: Tensor, _ b: Tensor, tolerance: Float = 1e-4, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.shape == b.shape, sourceLocation: sourceLocation)
    let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
    #expect(worst < tolerance, "largest relative difference \(worst)", sourceLocation: sourceLocation)
  }
}
