@testable import Tensors
import Testing

/// `LayerTimes` names each convolution pass by shape and by the way it ran, each other product by
/// shape, counts a product inside a convolution as the convolution, and records nothing unless
/// measuring.
@Suite("Layer times: work by work", .serialized)
struct LayerTimesTests {
  @Test("a convolution's three passes and a product, each its own row with its calls and FLOPs")
  func rows() throws {
    var g = SeededGenerator(seed: 5)
    let x = Tensor.uniform([1, 64, 20, 20], using: &g)
    let wide = Tensor.normal([64, 64, 3, 3], using: &g)  // wide, 100 tiles: Winograd
    let small = Tensor.normal([8, 64, 2, 2], using: &g)  // no plan for 2×2: unfolded
    let a = Tensor.uniform([64, 96], using: &g)
    let (xg, wg) = (x.requiringGradient(), wide.requiringGradient())
    let (_, rows) = LayerTimes.measure {
      let y = conv2d(xg, filter: wg, geometry: ConvGeometry(padding: (1, 1))).sum()
      _ = gradients(of: y, wrt: [xg, wg])
      _ = withoutGradients { conv2d(x, filter: small, geometry: ConvGeometry()) }
      _ = withoutGradients { matmul(a, a.transposed()) }
      _ = withoutGradients { matmul(a, a.transposed()) }
    }
    let byWork = Dictionary(uniqueKeysWithValues: rows.map { ($0.work, $0) } as [(String, LayerTimes.Row)])
    let forward = try #require(byWork["3×3 conv 64→64, 1×20×20, stride 1: forward (winograd)"], "\(rows.map(\.work))")
    #expect(forward.calls == 1)
    #expect(forward.flops == 2 * 64 * 64 * 9 * 20 * 20)
    #expect(byWork["3×3 conv 64→64, 1×20×20, stride 1: input gradient (winograd)"]?.calls == 1)
    #expect(byWork["3×3 conv 64→64, 1×20×20, stride 1: filter gradient (winograd)"]?.calls == 1)
    let unfolded = try #require(byWork["2×2 conv 64→8, 1×20×20, stride 1: forward (unfolded)"], "\(rows.map(\.work))")
    #expect(unfolded.flops == 2 * 8 * 64 * 4 * 19 * 19)
    // The unfolded layers' products count as the layers; the two matmuls are one row.
    let products = rows.filter { $0.work.hasPrefix("product") }
    #expect(products.map(\.work) == ["product 64×96 · 96×64"], "\(products.map(\.work))")
    #expect(products.first?.calls == 2)
    #expect(rows.allSatisfy { $0.seconds > 0 })
    #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.seconds >= $1.seconds }, "longest first")
  }

  @Test("nothing is recorded outside measure, nor carried into the next")
  func offOutside() {
    var g = SeededGenerator(seed: 6)
    let a = Tensor.uniform([32, 32], using: &g)
    _ = withoutGradients { matmul(a, a) }
    let (_, rows) = LayerTimes.measure {}
    #expect(rows.isEmpty)
  }
}
