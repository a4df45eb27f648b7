@testable import Tensors
import Testing
import TestSupport

/// Winograd's F(2, 7) along one axis against the unfolded convolution (column matrices and
/// OpenBLAS, which the PyTorch goldens check): 1×7 and 7×1 filters, output and input gradient,
/// paddings 0 to 6 along the taps and across them, odd sizes (a last tile cut in half), batches,
/// at one and two threads.
@Suite("Winograd convolution along one axis", .serialized)
struct LineWinogradTests {
  static let cases: [(batch: Int, input: [Int], outputs: Int, kernel: (Int, Int), padding: (Int, Int))] = [
    (2, [16, 17, 17], 16, (1, 7), (0, 3)),  // Inception-v3's 1×7: same size out, odd width
    (2, [20, 17, 17], 24, (7, 1), (3, 0)),  // and its 7×1: odd height
    (1, [16, 12, 30], 18, (1, 7), (0, 0)),  // valid: the input gradient padded 6
    (3, [17, 9, 21], 16, (7, 1), (6, 0)),  // out taller than in: the input gradient unpadded
    (1, [16, 13, 40], 33, (1, 7), (1, 2)),  // padded across the taps too (zero rows out)
    (1, [40, 66, 9], 16, (7, 1), (3, 0)),  // 297 tiles, 9 a row: runs cut at every block edge
  ]

  @Test("output and input gradient equal the unfolded convolution's", arguments: 0..<6, [1, 2])
  func matchesUnfolded(index: Int, threads: Int) throws {
    let hold = BLASThreadsHold(threads: threads)
    defer { hold.release() }
    let c = Self.cases[index]
    let filter = [c.outputs, c.input[0], c.kernel.0, c.kernel.1]
    let s = ConvShape(input: [c.batch] + c.input, filter: filter, geometry: ConvGeometry(padding: c.padding))
    #expect(LineWinograd.servesForward(s))
    var gen = SeededGenerator(seed: UInt64(index + 170))
    let x = Tensor.uniform([c.batch] + c.input, low: -1, high: 1, using: &gen)
    let w = Tensor.uniform(filter, low: -1, high: 1, using: &gen)
    let gy = Tensor.uniform(s.outputShape, low: -1, high: 1, using: &gen)

    let fast = TensorStorage(count: Shape.count(s.outputShape), repeating: 3)
    let unfolded = TensorStorage(count: Shape.count(s.outputShape))
    LineWinograd.conv2d(x.storage.base, w.storage, s, into: fast.base)
    Kernels.unfoldedConv2d(x.storage, w.storage, s, into: unfolded.base)
    close(fast, unfolded, "output")

    let across = c.kernel.0 == 1 ? c.padding.0 : c.padding.1
    #expect(LineWinograd.servesInputGradient(s) == (across == 0))
    guard across == 0 else { return }
    let gxFast = TensorStorage(count: x.scalarCount, repeating: 0.5)
    let gxUnfolded = TensorStorage(count: x.scalarCount, repeating: -7)
    LineWinograd.conv2dInputGradient(gy.storage.base, w.storage, s, into: gxFast.base)
    Kernels.unfoldedConv2dInputGradient(gy.storage.base, w.storage, s, into: gxUnfolded.base)
    close(gxFast, gxUnfolded, "input gradient")
  }

  @Test("only wide 1×7 and 7×1, stride-1, ungrouped layers with enough tiles go this way")
  func servedShapes() {
    func shape(_ input: [Int], _ filter: [Int], stride: Int = 1, padding: (Int, Int) = (0, 3), groups: Int = 1) -> ConvShape {
      ConvShape(input: input, filter: filter, geometry: ConvGeometry(stride: (stride, stride), padding: padding, groups: groups))
    }
    #expect(LineWinograd.servesForward(shape([2, 192, 17, 17], [192, 192, 1, 7])))
    // The PyTorch golden 14-inception_c (Tests/Fixtures/models) checks this path: its 1×7 and 7×1
    // layers, 16 channels over 7×7 at batch 2, go this way.
    #expect(LineWinograd.servesForward(shape([2, 16, 7, 7], [16, 16, 1, 7])))
    #expect(LineWinograd.servesInputGradient(shape([2, 16, 7, 7], [192, 16, 7, 1], padding: (3, 0))))
    #expect(LineWinograd.servesForward(shape([2, 192, 17, 17], [192, 192, 7, 1], padding: (3, 0))))
    #expect(!LineWinograd.servesForward(shape([2, 192, 17, 17], [192, 192, 1, 7], stride: 2)))
    #expect(!LineWinograd.servesForward(shape([2, 192, 17, 17], [192, 96, 1, 7], groups: 2)))
    #expect(!LineWinograd.servesForward(shape([2, 8, 17, 17], [192, 8, 1, 7])))  // narrow
    #expect(!LineWinograd.servesForward(shape([1, 192, 5, 5], [192, 192, 1, 7])))  // 15 tiles: too thin
    #expect(!LineWinograd.servesForward(shape([2, 192, 17, 17], [192, 192, 1, 5], padding: (0, 2))))
    #expect(!LineWinograd.servesForward(shape([2, 192, 17, 17], [192, 192, 7, 7], padding: (3, 3))))
    #expect(!LineWinograd.servesInputGradient(shape([2, 64, 20, 20], [64, 64, 1, 7], padding: (0, 7))))
    #expect(!LineWinograd.servesInputGradient(shape([2, 64, 20, 20], [64, 64, 1, 7], padding: (1, 3))))
  }

  @Test("turning a filter permutes its transform: G J = P G")
  func turnedTransform() {
    var gen = SeededGenerator(seed: 5)
    let w = Tensor.uniform([16, 7], low: -1, high: 1, using: &gen)
    let turned = TensorStorage((0..<16).flatMap { f in (0..<7).map { w.storage.base[7 * f + 6 - $0] } })
    let (u, v) = (TensorStorage(count: 8 * 16), TensorStorage(count: 8 * 16))
    LineWinograd.filterTransform(w.storage.base, count: 16, into: u.base)
    LineWinograd.filterTransform(turned.base, count: 16, into: v.base)
    for xi in 0..<8 {
      let from = LineWinograd.Plan.turnedPlane(xi)
      for f in 0..<16 {
        #expect(abs(v.base[xi * 16 + f] - u.base[from * 16 + f]) < 1e-6, "plane \(xi) filter \(f)")
      }
    }
  }

  @Test("the panel products equal BLAS's, as the filters lie and turned", arguments: [false, true])
  func panelMatchesBLAS(turned: Bool) throws {
    try #require(Winograd.panelKernel, "this CPU lacks AVX2: BLAS serves the products")
    let plan = LineWinograd.Plan(axis: .height, n: 1, channels: 5, height: 12, width: 9, padding: (3, 0), outputs: 7, out: (12, 9))
    #expect(plan.tiles == 54 && plan.lanes == 64)
    var gen = SeededGenerator(seed: 93)
    let u = Tensor.uniform([8 * 7 * 5], low: -1, high: 1, using: &gen)
    let v = Tensor.uniform([plan.tilePanels.count], low: -1, high: 1, using: &gen)
    let (vPanel, vBLAS) = (TensorStorage(Array(v.storage.buffer)), TensorStorage(Array(v.storage.buffer)))
    let panel = TensorStorage(count: plan.productPanels.count, repeating: .nan)
    let blas = TensorStorage(count: plan.productPanels.count, repeating: .nan)
    plan.products(u.storage.base, vPanel.base, turned: turned, into: panel.base, panel: true)
    plan.products(u.storage.base, vBLAS.base, turned: turned, into: blas.base, panel: false)
    let out = plan.productPanels
    for xi in 0..<8 {
      let plane = turned ? LineWinograd.Plan.turnedPlane(xi) : xi
      for o in 0..<7 {
        for t in 0..<plan.tiles {
          var sum = 0.0
          for c in 0..<5 {
            let filter = turned ? u.storage.base[plane * 35 + c * 7 + o] : u.storage.base[plane * 35 + o * 5 + c]
            sum += Double(filter) * Double(v.storage.base[plan.tilePanels.offset(xi, tile: t, row: c)])
          }
          let (p, b) = (panel.base[out.offset(xi, tile: t, row: o)], blas.base[out.offset(xi, tile: t, row: o)])
          #expect(abs(Double(p) - sum) < 1e-5 && abs(Double(b) - sum) < 1e-5, "plane \(xi) output \(o) tile \(t): \(p), \(b) against \(sum)")
        }
      }
    }
  }

  /// F(2, 7) rounds more than the direct sum (see `LineWinograd`): over these 16 to 40 channels
  /// its worst relative error measured 7e-6 to 1.2e-5 in NumPy.
  private func close(_ a: TensorStorage, _ b: TensorStorage, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    var worst: Float = 0
    for i in 0..<a.count { worst = max(worst, abs(a.base[i] - b.base[i]) / max(1, abs(b.base[i]))) }
    #expect(worst < 5e-5, "\(what): largest relative difference \(worst)", sourceLocation: sourceLocation)
  }
}
