/// Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray, "Fast algorithms for convolutional
/// neural networks", 2016) for the 3×3, stride-1, ungrouped convolutions of wide layers.
///
/// Each 2×2 block of output (a tile) is read from a 4×4 block of input. Moved into the transform
/// domain (`Bᵀ d B` for input, `G g Gᵀ` for a filter), a tile's 3×3 convolution becomes 16
/// elementwise products, so the whole layer is 16 matrix products of [o × c]·[c × tiles]
/// (`16·o·c·T` multiply-adds) where the unfolded path does one of [o × 9c]·[9c × 4T] (`36·o·c·T`):
/// 2.25× fewer. The transforms add and subtract only, and read and write each activation about
/// four times, less than the nine copies of an unfolded column matrix.
///
/// The input gradient of a stride-1 convolution is itself such a convolution: of the output
/// gradient with the filter turned 180° and its channels swapped, padded `2 − p`. Its
/// transformed filters are those of the forward pass, read transposed and with the first and
/// last rows and columns of each 4×4 block swapped (`G J = P G`, J reversing three elements,
/// P swapping the first and last of four), so one transform serves both.
enum Winograd {
  /// Below this many tiles the 16 products are bound by reading the transformed filters (16
  /// floats a filter against the unfolded product's 9, each used once a tile): ResNet-18's 7×7
  /// layers (16 tiles) ran slower this way on this machine, its 14×14 (49 tiles) faster.
  static let minimumTiles = 49

  /// Whether a convolution's forward pass goes this way.
  static func servesForward(_ s: ConvShape) -> Bool {
    s.kh == 3 && s.kw == 3 && s.geo.stride == (1, 1) && s.geo.groups == 1 && s.c >= 16 && s.o >= 16
      && s.n * ((s.oh + 1) / 2) * ((s.ow + 1) / 2) >= minimumTiles
  }

  /// Whether its input gradient does: the transposed convolution needs padding `2 − p ≥ 0`.
  static func servesInputGradient(_ s: ConvShape) -> Bool {
    servesForward(s) && s.geo.padding.0 <= 2 && s.geo.padding.1 <= 2
  }

  /// `y = conv2d(x, w)`.
  static func conv2d(_ x: UnsafePointer<Float>, _ w: TensorStorage, _ s: ConvShape, into y: UnsafeMutablePointer<Float>) {
    let plan = Plan(n: s.n, channels: s.c, height: s.h, width: s.w, padding: s.geo.padding, outputs: s.o, out: (s.oh, s.ow))
    plan.convolve(x, filters(w, s).base, turned: false, into: y)
  }

  /// `gx = ∂<gy, conv2d(x, w)>/∂x`, overwriting `gx`: by the same transformed filters, read
  /// turned (see `Plan.products`).
  static func conv2dInputGradient(
    _ gy: UnsafePointer<Float>, _ w: TensorStorage, _ s: ConvShape, into gx: UnsafeMutablePointer<Float>
  ) {
    let padding = (2 - s.geo.padding.0, 2 - s.geo.padding.1)
    let plan = Plan(n: s.n, channels: s.o, height: s.oh, width: s.ow, padding: padding, outputs: s.c, out: (s.h, s.w))
    plan.convolve(gy, filters(w, s).base, turned: true, into: gx)
  }

  /// The transformed filters of `w`, kept with it: a model's weights serve every evaluation of
  /// an attack, and a filter gradient's seed serves both products of its pullback.
  private static func filters(_ w: TensorStorage, _ s: ConvShape) -> TensorStorage {
    let key = DerivedLayout(kind: .winogradFilter, shape: s)
    if let cached = w.derived.withLock({ $0[key] }) { return cached }
    let u = TensorStorage(count: 16 * s.o * s.c)
    filterTransform(w.base, count: s.o * s.c, into: u.base)
    w.derived.withLock { $0[key] = u }
    return u
  }

  /// `G g Gᵀ` of each of the `count` 3×3 filters of `w` into `u` [16, count]: eight filters at a
  /// time, so that each of the 16 planes is written in whole runs (a filter's 16 values land
  /// `count` apart).
  static func filterTransform(_ w: UnsafePointer<Float>, count: Int, into u: UnsafeMutablePointer<Float>) {
    let u = Shared(u)
    Kernels.parallel((count + 7) / 8, work: 25 * count) { groups in
      withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 8) { tile in
        for group in groups {
          let first = 8 * group
          let lanes = Swift.min(8, count - first)
          for l in 0..<lanes { tile[l] = transformed(w + (first + l) * 9) }
          for xi in 0..<16 {
            let at = u.pointer + xi * count + first
            if lanes == 8 {
              let run = SIMD8<Float>(
                tile[0][xi], tile[1][xi], tile[2][xi], tile[3][xi], tile[4][xi], tile[5][xi], tile[6][xi], tile[7][xi])
              UnsafeMutableRawPointer(at).storeBytes(of: run, as: SIMD8<Float>.self)
            } else {
              for l in 0..<lanes { at[l] = tile[l][xi] }
            }
          }
        }
      }
    }
  }

  /// `G g Gᵀ` of one 3×3 filter `g` (row-major), a 4×4 block.
  @inline(__always)
  private static func transformed(_ g: UnsafePointer<Float>) -> SIMD16<Float> {
    // G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], down the columns, then along the rows.
    var a = SIMD16<Float>()  // G g: 4 rows × 3 columns, rows 4 apart
    for j in 0..<3 {
      let (g0, g1, g2) = (g[j], g[3 + j], g[6 + j])
      a[j] = g0
      a[4 + j] = 0.5 * (g0 + g1 + g2)
      a[8 + j] = 0.5 * (g0 - g1 + g2)
      a[12 + j] = g2
    }
    var u = SIMD16<Float>()
    for i in 0..<4 {
      let (g0, g1, g2) = (a[4 * i], a[4 * i + 1], a[4 * i + 2])
      u[4 * i] = g0
      u[4 * i + 1] = 0.5 * (g0 + g1 + g2)
      u[4 * i + 2] = 0.5 * (g0 - g1 + g2)
      u[4 * i + 3] = g2
    }
    return u
  }
}
