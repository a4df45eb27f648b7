@testable import Tensors
import Testing
import TestSupport

/// Winograd's F(4×4, 3×3) against the unfolded convolution (column matrices and a matrix
/// product, which the PyTorch goldens check): output and input gradient over paddings 0 to 2,
/// sizes of every remainder by four (the last tiles cut to 1, 2 or 3 outputs), non-square
/// planes and batches, at one and two threads, through the transforms this CPU runs (sixteen
/// lanes in AVX-512, else eight in AVX2).
@Suite("Winograd F(4×4, 3×3)")
struct Winograd4Tests {
  static let cases: [(batch: Int, input: [Int], outputs: Int, padding: (Int, Int))] = [
    (1, [16, 16, 16], 16, (1, 1)),  // same size out, whole tiles
    (2, [24, 15, 17], 20, (1, 1)),  // out 15×17: the last tiles 3 rows and 1 column
    (1, [32, 23, 16], 16, (0, 0)),  // valid: out 21×14, the input gradient padded 2
    (3, [16, 9, 12], 40, (2, 2)),  // out 11×14, larger than in: the input gradient unpadded
    (2, [17, 20, 11], 33, (0, 2)),  // paddings differ by axis
    (1, [16, 66, 66], 16, (1, 1)),  // 289 tiles, 17 a row: runs cut at every block edge
    (2, [40, 35, 35], 24, (1, 1)),  // Inception-v3's 35×35: the last tiles 3 outputs
  ]

  @Test(
    "output and input gradient equal the unfolded convolution's",
    .enabled(if: Winograd4.enabled, "needs AVX2 and FMA: F(4×4, 3×3) has no other transforms"),
    arguments: 0..<7, [1, 2])
  func matchesUnfolded(index: Int, threads: Int) {
    let c = Self.cases[index]
    let s = ConvShape(input: [c.batch] + c.input, filter: [c.outputs, c.input[0], 3, 3], geometry: ConvGeometry(padding: c.padding))
    let hold = BLASThreadsHold(threads: threads)
    defer { hold.release() }
    let r = UnfoldedReference(s, seed: UInt64(index + 170))
    let (x, w, gy, unfolded, gxUnfolded) = (r.x, r.w, r.gy, r.output, r.inputGradient)
    let u = TensorStorage(count: 36 * s.o * s.c)
    Winograd4.filterTransform(w.storage.base, count: s.o * s.c, into: u.base)
    let back = Winograd4.Plan.inputGradient(s)
    for inBands in [false, true] {
      let fast = TensorStorage(count: Shape.count(s.outputShape), repeating: .nan)
      Winograd4.Plan.forward(s).convolve(x.storage.base, u.base, turned: false, into: fast.base, inBands: inBands)
      close(fast, unfolded, "case \(index), in bands: \(inBands): output")
      let gxFast = TensorStorage(count: x.scalarCount, repeating: .nan)
      back.convolve(gy.storage.base, u.base, turned: true, into: gxFast.base, inBands: inBands)
      close(gxFast, gxUnfolded, "case \(index), in bands: \(inBands): input gradient")
    }
  }

  @Test("turning a filter permutes its transform: 0 with ∞ and 2 with ½ along each axis, an involution")
  func turnedPlanes() {
    let turned = (0..<36).map(Winograd4.Plan.turnedPlane)
    #expect(Set(turned).count == 36)
    #expect((0..<36).allSatisfy { turned[turned[$0]] == $0 })
    #expect(turned[0] == 35 && turned[7] == 7 && turned[14] == 14 && turned[21] == 28 && turned[3] == 34)
  }

  /// Within 2·10⁻⁵ of the largest output (F(2×2, 3×3)'s tests: 10⁻⁵; this rounds about ten times
  /// as much, `Winograd4`), and every element written.
  private func close(_ a: TensorStorage, _ b: TensorStorage, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    var (worst, scale): (Float, Float) = (0, 0)
    for i in 0..<a.count { (worst, scale) = (max(worst, abs(a.base[i] - b.base[i])), max(scale, abs(b.base[i]))) }
    #expect(worst < 2e-5 * scale, "\(what): largest difference \(worst) of the largest output \(scale)", sourceLocation: sourceLocation)
    #expect(!(0..<a.count).contains { a.base[$0].isNaN }, "\(what): every element written", sourceLocation: sourceLocation)
  }
}
