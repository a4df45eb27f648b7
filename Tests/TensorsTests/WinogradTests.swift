import CGatherProduct
@testable import Tensors
import Testing
import TestSupport

/// Winograd's F(2×2, 3×3) against the unfolded convolution (column matrices and OpenBLAS, which
/// the PyTorch goldens check): output and input gradient over paddings 0 to 2, odd and even
/// sizes (a last tile cut in half), non-square planes and batches, at one and two threads.
@Suite("Winograd convolution", .serialized)
struct WinogradTests {
  static let cases: [(batch: Int, input: [Int], outputs: Int, padding: (Int, Int))] = [
    (1, [16, 16, 16], 16, (1, 1)),  // ResNet's 3×3: same size out
    (2, [24, 15, 17], 20, (1, 1)),  // odd sizes: the last tiles are cut
    (1, [32, 23, 16], 16, (0, 0)),  // valid: out 21×14, the input gradient padded 2
    (3, [16, 9, 12], 40, (2, 2)),  // out larger than in: the input gradient unpadded
    (2, [17, 20, 11], 33, (0, 2)),  // paddings differ by axis
    (1, [16, 66, 66], 16, (1, 1)),  // 1,089 tiles, 33 a row: runs cut at every block edge; in
    // bands of 16 blocks, two threads take 34 and 35 blocks: bands of 16, 16 and 2 or 3, the
    // last block holding one tile
  ]

  /// Case `index`, its filter's shape and the convolution's.
  static func convolution(_ index: Int) -> (case: (batch: Int, input: [Int], outputs: Int, padding: (Int, Int)), filter: [Int], shape: ConvShape) {
    let c = cases[index]
    let filter = [c.outputs, c.input[0], 3, 3]
    return (c, filter, ConvShape(input: [c.batch] + c.input, filter: filter, geometry: ConvGeometry(padding: c.padding)))
  }

  @Test("output and input gradient equal the unfolded convolution's", arguments: 0..<6, [1, 2])
  func matchesUnfolded(index: Int, threads: Int) throws {
    let (c, _, s) = Self.convolution(index)
    #expect(Winograd.servesForward(s) && Winograd.servesInputGradient(s))
    compareWithUnfolded(s, threads: threads, seed: UInt64(index + 70), "case \(index), batch \(c.batch)")
  }

  /// One block of 16 tiles, whose products go through the single-block kernel (the pair kernel
  /// needs two): 40 input channels, so the input gradient reads 40 rows of filters transposed,
  /// where AVX-512 runs two panels of 16 and the last sixteen again (else by six); the outputs,
  /// 28 rows as the filters lie, two panels of 12 and the last twelve again. At two threads,
  /// with fewer blocks than threads, each takes half of the outputs (`share`): the
  /// input gradient's 40 (20 each), and the forward pass's 34 (17 each) but not its 28 (14 each
  /// would be fewer than 16).
  @Test("one block of 16 tiles (a 7×7 layer) equals the unfolded convolution", arguments: [1, 2], [28, 34])
  func oneBlock(threads: Int, outputs: Int) throws {
    let s = ConvShape(input: [1, 40, 7, 7], filter: [outputs, 40, 3, 3], geometry: ConvGeometry(padding: (1, 1)))
    #expect(Winograd.tiles(s) == 16)
    compareWithUnfolded(s, threads: threads, seed: 91, "one block, \(outputs) outputs")
  }

  /// Five blocks of 16 tiles (72 tiles of 16×18): at two threads each takes two whole blocks,
  /// then half of the fifth's outputs (`share`), the forward pass's 50 (25 each) and the input
  /// gradient's 48; at three, one whole block each, then a third of the last two blocks'
  /// outputs (16 or 17 each).
  @Test("blocks left over once each thread has as many: their outputs shared out", arguments: [2, 3])
  func blocksLeftOver(threads: Int) throws {
    let s = ConvShape(input: [1, 48, 16, 18], filter: [50, 48, 3, 3], geometry: ConvGeometry(padding: (1, 1)))
    #expect(Winograd.tiles(s) == 72)
    compareWithUnfolded(s, threads: threads, seed: 92, "five blocks")
  }

  /// Where the AVX-512 transforms run (the CPU has AVX-512F and FEDSIM_NO_AVX512 is unset).
  static let needsAVX512 = ConditionTrait.enabled(
    if: Winograd.wideTransforms, "needs AVX-512 (and FEDSIM_NO_AVX512 unset): else the eight-lane transforms serve")

  /// Two samples of `height × width`, padded 1, out as large: the transforms' tests.
  static func transformPlan(_ height: Int, _ width: Int, channels: Int, outputs: Int) -> Winograd.Plan {
    Winograd.Plan(
      n: 2, channels: channels, height: height, width: width, padding: (1, 1), outputs: outputs, out: (height, width))
  }

  /// Two storages of `count` NaNs, for the two ways of one transform to write.
  static func unwritten(_ count: Int) -> (TensorStorage, TensorStorage) {
    (TensorStorage(count: count, repeating: .nan), TensorStorage(count: count, repeating: .nan))
  }

  /// The filter transform sixteen at a time in AVX-512 against eight at a time in Swift, bit
  /// for bit: 37 filters (two groups of 16 and a short one of 5), and 4,099 over two threads.
  @Test(
    "the AVX-512 filter transform gives the eight-lane one's values",
    Self.needsAVX512,
    arguments: [37, 4099])
  func wideFilterTransform(count: Int) throws {
    let (w, wide) = Self.filterTransformsMatchSwift(count: count, seed: 93, wide: true)
    // And one filter by the definition, G g Gᵀ in Double.
    let f = count - 1
    let g = (0..<9).map { Double(w.storage.base[9 * f + $0]) }
    let G: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
    for i in 0..<4 {
      for j in 0..<4 {
        var sum = 0.0
        for a in 0..<3 { for b in 0..<3 { sum += G[i][a] * g[3 * a + b] * G[j][b] } }
        #expect(abs(Double(wide.base[(4 * i + j) * count + f]) - sum) < 1e-6, "element \(i), \(j)")
      }
    }
  }

  /// The filter transform eight filters a group in AVX2 against Swift's eight lanes, bit for
  /// bit: whole groups and a short last one (37 = 4·8 + 5), split over two threads.
  @Test(
    "the AVX2 filter transform gives the Swift one's values",
    .enabled(if: Winograd.panelKernel, "needs AVX2 and FMA: else Swift's transform serves"),
    arguments: [37, 4099])
  func vectorFilterTransform(count: Int) throws {
    _ = Self.filterTransformsMatchSwift(count: count, seed: 94, wide: false)
  }

  /// `count` random filters transformed by C (sixteen lanes in AVX-512 when `wide`, else eight
  /// in AVX2) and by Swift's eight lanes, over two threads: expects the same bits, and returns
  /// the filters and the C transform's result.
  static func filterTransformsMatchSwift(
    count: Int, seed: UInt64, wide: Bool, sourceLocation: SourceLocation = #_sourceLocation
  ) -> (Tensor, TensorStorage) {
    let hold = BLASThreadsHold(threads: 2)
    defer { hold.release() }
    var gen = SeededGenerator(seed: seed)
    let w = Tensor.uniform([count * 9], low: -1, high: 1, using: &gen)
    let (vector, swift) = unwritten(16 * count)
    Winograd.filterTransform(w.storage.base, count: count, into: vector.base, wide: wide, vector: true)
    Winograd.filterTransform(w.storage.base, count: count, into: swift.base, wide: false, vector: false)
    let differing = (0..<16 * count).filter { vector.base[$0].bitPattern != swift.base[$0].bitPattern }
    #expect(
      differing.count == 0, "\(differing.count) of \(16 * count) differ, the first at \(differing.first ?? -1)",
      sourceLocation: sourceLocation)
    return (w, vector)
  }

  /// The input transform sixteen tiles a run in AVX-512 against eight in Swift, bit for bit:
  /// two samples of 40×75 (38 tiles a row: runs of 16, 16 and 6, and runs that start mid-block)
  /// and of 9×9 (5 tiles a row), padded 1.
  @Test(
    "the AVX-512 input transform gives the eight-lane one's values",
    Self.needsAVX512,
    arguments: [75, 9])
  func wideInputTransform(width: Int) throws {
    let height = width == 9 ? 9 : 40
    let plan = Self.transformPlan(height, width, channels: 3, outputs: 4)
    var gen = SeededGenerator(seed: 95)
    let x = Tensor.uniform([2, 3, height, width], low: -1, high: 1, using: &gen)
    let panels = plan.tilePanels
    let (wide, narrow) = Self.unwritten(panels.count)
    plan.withPaddedInput(x.storage.base) { padded in
      plan.inputTransform(padded, blocks: 0..<plan.lanes / 16, origin: 0, into: wide.base, panels, .init(plan, width: 16))
      plan.inputTransform(padded, blocks: 0..<plan.lanes / 16, origin: 0, into: narrow.base, panels, .init(plan))
    }
    var differing = 0
    for xi in 0..<16 {
      for c in 0..<3 {
        for t in 0..<plan.tiles where wide.base[panels.offset(xi, tile: t, row: c)].bitPattern
          != narrow.base[panels.offset(xi, tile: t, row: c)].bitPattern { differing += 1 }
      }
    }
    #expect(differing == 0, "\(differing) of \(16 * 3 * plan.tiles) transformed values differ")
    #expect(!narrow.base[panels.offset(5, tile: plan.tiles - 1, row: 2)].isNaN)
  }

  /// The output transform sixteen tiles a run in AVX-512 against eight in Swift, bit for bit:
  /// two samples of 39×75 out (38 tiles a row, the last cut to one column; the last tile row to
  /// one row) and of 9×9.
  @Test(
    "the AVX-512 output transform gives the eight-lane one's values",
    Self.needsAVX512,
    arguments: [75, 9])
  func wideOutputTransform(width: Int) throws {
    let height = width == 9 ? 9 : 39
    let plan = Self.transformPlan(height, width, channels: 4, outputs: 3)
    var gen = SeededGenerator(seed: 96)
    let m = Tensor.uniform([plan.productPanels.count], low: -1, high: 1, using: &gen)
    let count = 2 * 3 * height * width
    let (wide, narrow) = Self.unwritten(count)
    let blocks = 0..<plan.lanes / 16
    plan.outputTransform(m.storage.base, blocks: blocks, origin: 0, plan.productPanels, into: wide.base, .init(plan, width: 16))
    plan.outputTransform(m.storage.base, blocks: blocks, origin: 0, plan.productPanels, into: narrow.base, .init(plan))
    let differing = (0..<count).filter { wide.base[$0].bitPattern != narrow.base[$0].bitPattern }
    #expect(differing.isEmpty, "\(differing.count) of \(count) outputs differ, the first at \(differing.first ?? -1)")
    #expect(!(0..<count).contains { narrow.base[$0].isNaN }, "every output written")
  }

  /// Winograd's output and input gradient of `s`, in bands and staged, against the unfolded
  /// convolution's, on random input, filters and output gradient, at `threads`.
  private func compareWithUnfolded(_ s: ConvShape, threads: Int, seed: UInt64, _ what: String) {
    let hold = BLASThreadsHold(threads: threads)
    defer { hold.release() }
    let r = UnfoldedReference(s, seed: seed)
    let (x, w, gy, unfolded, gxUnfolded) = (r.x, r.w, r.gy, r.output, r.inputGradient)
    for inBands in [false, true] {
      let fast = TensorStorage(count: Shape.count(s.outputShape), repeating: 3)
      Winograd.conv2d(x.storage.base, w.storage, s, into: fast.base, inBands: inBands)
      close(fast, unfolded, "\(what): output, in bands: \(inBands)")
      let gxFast = TensorStorage(count: x.scalarCount, repeating: 0.5)
      Winograd.conv2dInputGradient(gy.storage.base, w.storage, s, into: gxFast.base, inBands: inBands)
      close(gxFast, gxUnfolded, "\(what): input gradient, in bands: \(inBands)")
    }
  }

  @Test("a band's blocks: all the tiles' in a few, bounded by the second-level cache, one at least")
  func bands() {
    func plan(_ channels: Int, _ outputs: Int, _ side: Int) -> Winograd.Plan {
      Winograd.Plan(n: 2, channels: channels, height: side, width: side, padding: (0, 0), outputs: outputs, out: (side - 2, side - 2))
    }
    // Inception-v3's Conv2d_2a: 32 → 32 over 147×147, 8 blocks (512 KiB) a band.
    #expect(plan(32, 32, 149).goesInBands && plan(32, 32, 149).bandBlocks == 8)
    // Pairs of blocks, for the pair kernel: one pair at least, 2 where 3 would fit.
    #expect(plan(16, 256, 30).goesInBands && plan(16, 256, 30).bandBlocks == 2)
    #expect(plan(64, 96, 37).bandBlocks == 2)
    // 80 → 192 (Conv2d_4a): its filters' transform (960 KiB) is read again for every band of
    // two blocks, each plane's (60 KiB) from the second-level cache.
    #expect(plan(80, 192, 73).goesInBands && plan(80, 192, 73).bandBlocks == 2)
    // Up to 1 MiB of transformed filters.
    #expect(!plan(128, 129, 30).goesInBands && plan(128, 128, 30).goesInBands)
  }

  @Test("the filter gradient equals the unfolded convolution's, through the panel kernel and BLAS", arguments: 0..<6, [1, 2])
  func filterGradientMatchesUnfolded(index: Int, threads: Int) throws {
    // One thread through BLAS, two through the panel kernel (where the CPU has AVX2).
    let panel = threads == 2 && Winograd.panelKernel
    let hold = BLASThreadsHold(threads: threads)
    defer { hold.release() }
    let (c, filter, s) = Self.convolution(index)
    #expect(Winograd.servesFilterGradient(s))
    var gen = SeededGenerator(seed: UInt64(index + 170))
    let x = Tensor.uniform([c.batch] + c.input, low: -1, high: 1, using: &gen)
    let gy = Tensor.uniform(s.outputShape, low: -1, high: 1, using: &gen)
    let fast = TensorStorage(count: Shape.count(filter), repeating: 3)
    let unfolded = TensorStorage(count: Shape.count(filter), repeating: -5)
    Winograd.conv2dFilterGradient(x.storage.base, gy.storage.base, s, into: fast.base, panel: panel)
    Kernels.unfoldedConv2dFilterGradient(x.storage, gy.storage.base, s, into: unfolded.base)
    // Each element sums `batch·positions` terms of size up to 1: relative to the largest.
    let scale = (0..<unfolded.count).reduce(Float(1)) { max($0, abs(unfolded.base[$1])) }
    var worst: Float = 0
    for i in 0..<fast.count { worst = max(worst, abs(fast.base[i] - unfolded.base[i]) / scale) }
    #expect(worst < 1e-5, "filter gradient (panel kernel: \(panel)): largest difference \(worst) of the largest element \(scale)")
    // And the unfolded one is the sum itself, element by element in Double (a few taps).
    for (o, ch, k) in [(0, 0, 0), (c.outputs - 1, c.input[0] - 1, 8), (c.outputs / 2, 1, 4)] {
      var sum = 0.0
      for b in 0..<c.batch {
        for i in 0..<s.oh {
          for j in 0..<s.ow {
            let (r, q) = (i - c.padding.0 + k / 3, j - c.padding.1 + k % 3)
            guard r >= 0, r < s.h, q >= 0, q < s.w else { continue }
            sum += Double(gy.storage.base[((b * s.o + o) * s.oh + i) * s.ow + j]) * Double(x.storage.base[((b * s.c + ch) * s.h + r) * s.w + q])
          }
        }
      }
      let got = fast.base[(o * s.c + ch) * 9 + k]
      #expect(abs(Double(got) - sum) < 1e-5 * Double(scale), "output \(o) channel \(ch) tap \(k): \(got) against \(sum)")
    }
  }

  @Test("only wide 3×3, stride-1, ungrouped layers with enough tiles go this way")
  func servedShapes() {
    func shape(_ input: [Int], _ filter: [Int], stride: Int = 1, padding: Int = 1, groups: Int = 1) -> ConvShape {
      ConvShape(input: input, filter: filter, geometry: ConvGeometry(stride: (stride, stride), padding: (padding, padding), groups: groups))
    }
    #expect(Winograd.servesForward(shape([1, 64, 56, 56], [64, 64, 3, 3])))
    #expect(!Winograd.servesForward(shape([1, 64, 56, 56], [128, 64, 3, 3], stride: 2)))
    #expect(!Winograd.servesForward(shape([1, 64, 56, 56], [64, 64, 1, 1], padding: 0)))
    #expect(!Winograd.servesForward(shape([1, 64, 56, 56], [64, 32, 3, 3], groups: 2)))
    #expect(!Winograd.servesForward(shape([1, 12, 56, 56], [12, 12, 3, 3])))  // narrow: direct or unfolded
    // 16 tiles, one block (ResNet-18's 512 → 512 over 7×7): through the AVX2 kernel, and where
    // the AVX-512 kernels fetch filters read transposed ahead, but not on Intel's cores (two
    // blocks there). Fewer tiles: too thin.
    let wide = fedsim_panel_product_wide() != 0, intel = fedsim_cpu_is_intel() != 0
    let avx2 = Winograd.panelKernel && !wide
    let (seven512, seven128) = (shape([1, 512, 7, 7], [512, 512, 3, 3]), shape([1, 128, 7, 7], [32, 128, 3, 3]))
    for seven in [seven512, seven128] {
      #expect(Winograd.servesForward(seven) == (avx2 || (wide && !intel)))
      #expect(Winograd.servesInputGradient(seven) == (avx2 || (wide && !intel)))
    }
    #expect(!Winograd.servesForward(shape([1, 512, 6, 6], [512, 512, 3, 3])))  // 9 tiles
    #expect(Winograd.servesForward(shape([1, 256, 14, 14], [256, 256, 3, 3])))  // 49 tiles
    // The filter gradient over 49 tiles: on Intel's cores only while its 16·o·c transformed
    // floats fit in 1 MiB (DenseNet-121's 128 → 32, 256 KiB, not ResNet-18's 256 → 256, 4 MiB).
    #expect(Winograd.servesFilterGradient(shape([1, 256, 14, 14], [256, 256, 3, 3])) == !intel)
    #expect(Winograd.servesFilterGradient(shape([1, 128, 14, 14], [32, 128, 3, 3])))
    #expect(Winograd.servesFilterGradient(shape([1, 256, 28, 28], [256, 256, 3, 3])))  // 196 tiles
    // 32 tiles (Inception-v3's 3×3 448 → 384 over 2×8×8): forward and input gradient through
    // the AVX2 kernel and where the pair kernel reads the filters once for them, the filter
    // gradient unfolded. The PyTorch golden 04-inception_a (Tests/Fixtures/models) checks such a
    // layer: its 64 → 96 and 96 → 96 over 2×7×7, 32 tiles, one pair of blocks.
    #expect(Winograd.servesForward(shape([2, 64, 7, 7], [96, 64, 3, 3])) == (wide || avx2))
    let eight = shape([2, 448, 8, 8], [384, 448, 3, 3])
    #expect(Winograd.servesForward(eight) == (wide || avx2))
    #expect(Winograd.servesInputGradient(eight) == (wide || avx2))
    #expect(!Winograd.servesFilterGradient(eight))
    #expect(Winograd.servesForward(shape([1, 64, 20, 20], [64, 64, 3, 3], padding: 3)))
    #expect(!Winograd.servesInputGradient(shape([1, 64, 20, 20], [64, 64, 3, 3], padding: 3)))
  }

  @Test("the AVX2 panel products equal BLAS's, as the filters lie and turned", arguments: [false, true])
  func panelMatchesBLAS(turned: Bool) throws {
    try #require(Winograd.panelKernel, "this CPU lacks AVX2: BLAS serves the products")
    // 7 and 5 rows: a last partial group of six; 42 tiles: a last block of 16 part empty.
    let plan = Winograd.Plan(n: 1, channels: 5, height: 12, width: 14, padding: (1, 1), outputs: 7, out: (12, 14))
    #expect(plan.tiles == 42 && plan.lanes == 48)
    var gen = SeededGenerator(seed: 91)
    let u = Tensor.uniform([16 * 7 * 5], low: -1, high: 1, using: &gen)
    let (tilePanels, productPanels) = (plan.tilePanels, plan.productPanels)
    let v = Tensor.uniform([tilePanels.count], low: -1, high: 1, using: &gen)
    let (vPanel, vBLAS) = (TensorStorage(Array(v.storage.buffer)), TensorStorage(Array(v.storage.buffer)))
    let panel = TensorStorage(count: productPanels.count, repeating: .nan)
    let blas = TensorStorage(count: productPanels.count, repeating: .nan)
    plan.products(u.storage.base, vPanel.base, turned: turned, into: panel.base, panel: true)
    plan.products(u.storage.base, vBLAS.base, turned: turned, into: blas.base, panel: false)
    for xi in 0..<16 {
      for o in 0..<7 {
        let at = (0..<plan.tiles).map { productPanels.offset(xi, tile: $0, row: o) }
        close(TensorStorage(at.map { panel.base[$0] }), TensorStorage(at.map { blas.base[$0] }), "plane \(xi) row \(o)")
      }
    }
    // And BLAS's are the products themselves, element by element in Double.
    for xi in [0, 5, 15] {
      let plane = turned ? [3, 1, 2, 0][xi / 4] * 4 + [3, 1, 2, 0][xi % 4] : xi
      for o in 0..<7 {
        for t in [0, 17, 41] {
          var sum = 0.0
          for c in 0..<5 {
            let filter = turned ? u.storage.base[plane * 35 + c * 7 + o] : u.storage.base[plane * 35 + o * 5 + c]
            sum += Double(filter) * Double(vBLAS.base[tilePanels.offset(xi, tile: t, row: c)])
          }
          let got = blas.base[productPanels.offset(xi, tile: t, row: o)]
          #expect(abs(Double(got) - sum) < 1e-5, "plane \(xi) output \(o) tile \(t): \(got) against \(sum)")
        }
      }
    }
  }

  /// Within 1e-5 of the largest output (at least 1): Winograd's rounding grows with the sums it
  /// transforms, not with each output (an output near zero is a difference of large terms), and the
  /// unfolded convolution it is held to rounds as the CPU's product does (AVX-512 or OpenBLAS).
  private func close(_ a: TensorStorage, _ b: TensorStorage, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    var (worst, scale): (Float, Float) = (0, 1)
    for i in 0..<a.count { (worst, scale) = (max(worst, abs(a.base[i] - b.base[i])), max(scale, abs(b.base[i]))) }
    #expect(worst < 1e-5 * scale, "\(what): largest difference \(worst) of the largest output \(scale)", sourceLocation: sourceLocation)
  }
}
