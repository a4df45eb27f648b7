import CGatherProduct
@testable import Tensors
import Testing
import TestSupport

/// Filters packed once and kept (`Kernels.filterProduct`): the same sums as `gemm`, bit for bit,
/// over products that run turned (few columns), at one thread and at three (parts of whole
/// panels of 16 filters); and the unfolded convolutions that use them against a float64
/// convolution computed here.
@Suite("Packed filters", .serialized)
struct PackedFilterTests {
  static let products: [(m: Int, n: Int, k: Int, transposed: Bool, beta: Float)] = [
    (512, 49, 600, false, 0),  // a 7×7 layer's forward pass: three blocks of steps
    (300, 49, 70, true, 1),  // an input gradient, added to c
    (200, 7, 33, false, 0.25),  // one short panel of 7 rows
    (4_608, 49, 130, true, 0),  // a 512-channel layer's input gradient: nine blocks of columns
    (2_048, 128, 48, true, 0),  // a 1×1 input gradient over 2×8×8: turning issues as many FMAs
  ]

  @Test("the same sums as gemm, bit for bit", arguments: 0..<5, [1, 3])
  func matchesGemm(index: Int, threads: Int) throws {
    let hold = BLASThreadsHold(threads: threads)
    defer { hold.release() }
    let t = Self.products[index]
    var gen = SeededGenerator(seed: UInt64(index + 900))
    let w = TensorStorage((0..<t.m * t.k).map { _ in Float.random(in: -1...1, using: &gen) })
    let (ldx, ldc) = (t.n + 3, t.n + 5)
    let x = (0..<t.k * ldx).map { _ in Float.random(in: -1...1, using: &gen) }
    let c0 = (0..<t.m * ldc).map { _ in Float.random(in: -1...1, using: &gen) }
    var (packed, plain) = (c0, c0)
    let run = {
      x.withUnsafeBufferPointer { x in
        packed.withUnsafeMutableBufferPointer { c in
          Kernels.filterProduct(
            w, transposed: t.transposed, m: t.m, n: t.n, k: t.k, x.baseAddress!, ldx: ldx, beta: t.beta,
            c.baseAddress!, ldc: ldc)
        }
      }
    }
    #expect(!run() && packed == c0, "filters read once are left to gemm, c untouched")
    let ran = run()
    let turns = Kernels.widerProducts && fedsim_filter_product_turns(Int64(t.m), Int64(t.n), t.transposed ? 1 : 0) == 1
    try #require(ran == turns, "packed filters serve FedSim's own product only, where it turns")
    guard ran else {
      // Here products go through OpenBLAS (no AVX2), or this one fills the vectors unturned (7
      // columns in AVX2's 8 lanes): nothing packed or kept.
      #expect(packed == c0, "a product left to gemm leaves c untouched")
      #expect(w.derived.withLock { $0.isEmpty }, "nothing kept beside filters that gemm reads")
      return
    }
    x.withUnsafeBufferPointer { x in
      plain.withUnsafeMutableBufferPointer { c in
        Kernels.gemm(
          transposeA: t.transposed, transposeB: false, m: t.m, n: t.n, k: t.k, w.base, lda: t.transposed ? t.m : t.k,
          x.baseAddress!, ldb: ldx, beta: t.beta, c.baseAddress!, ldc: ldc)
      }
    }
    let differing = zip(packed, plain).filter { $0.bitPattern != $1.bitPattern }.count
    #expect(differing == 0, "\(differing) of \(packed.count) elements differ from gemm's (columns past n included)")
    #expect(w.derived.withLock { $0.values.map(\.count) } == [Int(fedsim_packed_filter_count(Int64(t.k), Int64(t.m))) + 15], "the packed filters are kept with them")
  }

  @Test(
    "products left to gemm: columns that fill the vectors, and filters read in rows when turning gains nothing",
    arguments: [(64, 256, false), (64, 256, true), (2_048, 128, false), (300, 201, true), (17, 64, true)])
  func productsDecline(m: Int, n: Int, transposed: Bool) {
    let k = 32
    let w = TensorStorage(count: m * k, repeating: 1)
    let x = [Float](repeating: 1, count: k * n)
    var c = [Float](repeating: 0, count: m * n)
    for read in 0..<2 {
      let ran = x.withUnsafeBufferPointer { x in
        c.withUnsafeMutableBufferPointer { c in
          Kernels.filterProduct(
            w, transposed: transposed, m: m, n: n, k: k, x.baseAddress!, ldx: n, c.baseAddress!, ldc: n)
        }
      }
      #expect(!ran, "read \(read)")
    }
    #expect(c.allSatisfy { $0 == 0 } && w.derived.withLock { $0.isEmpty })
  }

  static let layers: [(batch: Int, input: [Int], filter: [Int], stride: Int, padding: Int)] = [
    (1, [32, 7, 7], [64, 32, 3, 3], 1, 1),  // a last-block layer at 7×7
    (2, [24, 7, 7], [64, 24, 3, 3], 1, 1),  // two samples side by side: 98 columns
    (1, [16, 14, 14], [48, 16, 3, 3], 2, 1),  // stride 2 into 7×7
    (2, [64, 8, 8], [48, 64, 1, 1], 1, 0),  // 1×1 over 2×8×8: only the input gradient turns
  ]

  @Test("unfolded convolutions through kept filters equal a float64 convolution", arguments: 0..<4, [1, 3])
  func convolutions(index: Int, threads: Int) throws {
    let hold = BLASThreadsHold(threads: threads)
    defer { hold.release() }
    let l = Self.layers[index]
    let s = ConvShape(
      input: [l.batch] + l.input, filter: l.filter,
      geometry: ConvGeometry(stride: (l.stride, l.stride), padding: (l.padding, l.padding)))
    var gen = SeededGenerator(seed: UInt64(index + 950))
    let x = Tensor.uniform([l.batch] + l.input, low: -1, high: 1, using: &gen)
    let w = Tensor.uniform(l.filter, low: -1, high: 1, using: &gen)
    let gy = Tensor.uniform(s.outputShape, low: -1, high: 1, using: &gen)
    let (y, expectedY) = (TensorStorage(count: Shape.count(s.outputShape)), reference(s, x, w, gy).y)
    let (gx, expectedGx) = (TensorStorage(count: x.scalarCount, repeating: 9), reference(s, x, w, gy).gx)
    for pass in 0..<3 {  // the first reads the filters as gemm does, the second packs them, the third reads them kept
      Kernels.unfoldedConv2d(x.storage, w.storage, s, into: y.base)
      Kernels.unfoldedConv2dInputGradient(gy.storage.base, w.storage, s, into: gx.base)
      close(y, expectedY, "output, pass \(pass)")
      close(gx, expectedGx, "input gradient, pass \(pass)")
    }
    // One packing for each direction whose product runs turned (98 columns turn the forward
    // product of 64 filters and, read transposed, the input gradient's of 216 rows).
    let width = l.batch * s.pixels
    let directions: [(rows: Int, transposed: Int32)] = [(s.o, 0), (s.patch, 1)]
    let turned = directions.filter { fedsim_filter_product_turns(Int64($0.rows), Int64(width), $0.transposed) == 1 }.count
    let kept = w.storage.derived.withLock { $0.values.filter { $0.count > 0 }.count }
    #expect(turned >= 1 && kept == (Kernels.widerProducts ? turned : 0), "kept: \(kept), turned: \(turned)")
  }

  /// `y = conv2d(x, w)` and `gx = ∂<gy, y>/∂x` in float64, tap by tap.
  private func reference(_ s: ConvShape, _ x: Tensor, _ w: Tensor, _ gy: Tensor) -> (y: [Double], gx: [Double]) {
    let (xs, ws, gys) = (x.scalars, w.scalars, gy.scalars)
    var y = [Double](repeating: 0, count: gys.count), gx = [Double](repeating: 0, count: xs.count)
    for b in 0..<s.n {
      for o in 0..<s.o {
        for oy in 0..<s.oh {
          for ox in 0..<s.ow {
            let out = ((b * s.o + o) * s.oh + oy) * s.ow + ox
            for c in 0..<s.c {
              for i in 0..<s.kh {
                for j in 0..<s.kw {
                  let (iy, ix) = (oy * s.geo.stride.0 - s.geo.padding.0 + i, ox * s.geo.stride.1 - s.geo.padding.1 + j)
                  guard iy >= 0, iy < s.h, ix >= 0, ix < s.w else { continue }
                  let (at, tap) = (((b * s.c + c) * s.h + iy) * s.w + ix, ((o * s.c + c) * s.kh + i) * s.kw + j)
                  y[out] += Double(xs[at]) * Double(ws[tap])
                  gx[at] += Double(gys[out]) * Double(ws[tap])
                }
              }
            }
          }
        }
      }
    }
    return (y, gx)
  }

  private func close(_ a: TensorStorage, _ b: [Double], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    var worst = 0.0
    for i in 0..<b.count { worst = max(worst, abs(Double(a.base[i]) - b[i]) / max(1, abs(b[i]))) }
    #expect(worst < 1e-5, "\(what): largest relative difference \(worst)", sourceLocation: sourceLocation)
  }
}
