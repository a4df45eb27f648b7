import CGatherProduct

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
  /// floats a filter against the unfolded product's 9, each used once a tile). Through the AVX2
  /// kernel, ResNet-18's 7×7 layers (16 tiles) ran slower this way, its 14×14 (49 tiles) faster.
  /// Through the AVX-512 kernels, which fetch filters read transposed ahead, one block of 16
  /// tiles suffices (Zen 4, ms an evaluation): ResNet-18's 512 → 512 over 7×7 ran its forward
  /// pass in 16–17 against 22–24 unfolded, its input gradient in 24–27 against 25–26;
  /// DenseNet-121's 128 → 32 over 7×7 both in 5.8 against 8.4. (Its filter gradient does not
  /// gain: `minimumFilterGradientTiles`.)
  static let minimumTiles = fedsim_panel_product_wide() != 0 ? 16 : 49

  /// A convolution's tiles: two by two outputs of every image.
  static func tiles(_ s: ConvShape) -> Int { s.n * ((s.oh + 1) / 2) * ((s.ow + 1) / 2) }

  /// Whether a convolution's forward pass goes this way.
  static func servesForward(_ s: ConvShape) -> Bool {
    s.kh == 3 && s.kw == 3 && s.geo.stride == (1, 1) && s.geo.groups == 1 && s.c >= 16 && s.o >= 16
      && tiles(s) >= minimumTiles
  }

  /// Whether its input gradient does: the transposed convolution needs padding `2 − p ≥ 0`.
  static func servesInputGradient(_ s: ConvShape) -> Bool {
    servesForward(s) && s.geo.padding.0 <= 2 && s.geo.padding.1 <= 2
  }

  /// `y = conv2d(x, w)`. `inBands`: see `Plan.convolve`.
  static func conv2d(
    _ x: UnsafePointer<Float>, _ w: TensorStorage, _ s: ConvShape, into y: UnsafeMutablePointer<Float>, inBands: Bool? = nil
  ) {
    Plan.forward(s).convolve(x, filters(w, s).base, turned: false, into: y, inBands: inBands)
  }

  /// `gx = ∂<gy, conv2d(x, w)>/∂x`, overwriting `gx`: by the same transformed filters, read
  /// turned (see `Plan.products`).
  static func conv2dInputGradient(
    _ gy: UnsafePointer<Float>, _ w: TensorStorage, _ s: ConvShape, into gx: UnsafeMutablePointer<Float>,
    inBands: Bool? = nil
  ) {
    let padding = (2 - s.geo.padding.0, 2 - s.geo.padding.1)
    let plan = Plan(n: s.n, channels: s.o, height: s.oh, width: s.ow, padding: padding, outputs: s.c, out: (s.h, s.w))
    plan.convolve(gy, filters(w, s).base, turned: true, into: gx, inBands: inBands)
  }

  /// The transformed filters of `w`, kept with it.
  private static func filters(_ w: TensorStorage, _ s: ConvShape) -> TensorStorage {
    transformedFilters(w, s, planes: 16, filterTransform)
  }

  /// The `planes` transforms of `w`'s `o·c` filters by `transform`, kept with `w`: a model's
  /// weights serve every evaluation of an attack, and a filter gradient's seed serves both
  /// products of its pullback. (The shape tells which transform: one algorithm serves a shape.)
  static func transformedFilters(
    _ w: TensorStorage, _ s: ConvShape, planes: Int,
    _ transform: (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void
  ) -> TensorStorage {
    let key = DerivedLayout(kind: .winogradFilter, shape: s)
    if let cached = w.derived.withLock({ $0[key] }) { return cached }
    let u = TensorStorage(count: planes * s.o * s.c)
    transform(w.base, s.o * s.c, u.base)
    w.derived.withLock { $0[key] = u }
    return u
  }

  /// `G g Gᵀ` of each of the `count` 3×3 filters of `w` into `u` [16, count]: eight filters at a
  /// time in the lanes, so that each of the 16 planes is written in whole runs (a filter's 16
  /// values land `count` apart). A seed's filters are transformed at every evaluation.
  static func filterTransform(_ w: UnsafePointer<Float>, count: Int, into u: UnsafeMutablePointer<Float>) {
    let u = Shared(u)
    Kernels.parallel((count + 7) / 8, work: 25 * count) { groups in
      for group in groups {
        let first = 8 * group
        let lanes = Swift.min(8, count - first)
        let g = w + 9 * first
        // Tap k of the eight filters (the missing ones repeat the last).
        let tap = { (k: Int) -> SIMD8<Float> in
          guard lanes == 8 else {
            var t = SIMD8<Float>()
            for l in 0..<8 { t[l] = g[9 * Swift.min(l, lanes - 1) + k] }
            return t
          }
          return SIMD8(g[k], g[9 + k], g[18 + k], g[27 + k], g[36 + k], g[45 + k], g[54 + k], g[63 + k])
        }
        transform(tap) { xi, value in
          let at = u.pointer + xi * count + first
          if lanes == 8 {
            UnsafeMutableRawPointer(at).storeBytes(of: value, as: SIMD8<Float>.self)
          } else {
            for l in 0..<lanes { at[l] = value[l] }
          }
        }
      }
    }
  }

  /// `G g Gᵀ` of eight 3×3 filters at once, tap `k` (row-major) of each in `g(k)`: calls
  /// `put(ξ, value)` for the 16 elements of the 4×4 result.
  @inline(__always)
  private static func transform(_ g: (Int) -> SIMD8<Float>, _ put: (Int, SIMD8<Float>) -> Void) {
    // G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], down the columns, then along the rows.
    typealias Three = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
    @inline(__always) func apply(_ v: Three) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
      (v.0, 0.5 * (v.0 + v.1 + v.2), 0.5 * (v.0 - v.1 + v.2), v.2)
    }
    let columns = (apply((g(0), g(3), g(6))), apply((g(1), g(4), g(7))), apply((g(2), g(5), g(8))))
    @inline(__always) func row(_ r: Int, _ v: Three) {
      let out = apply(v)
      put(4 * r, out.0)
      put(4 * r + 1, out.1)
      put(4 * r + 2, out.2)
      put(4 * r + 3, out.3)
    }
    row(0, (columns.0.0, columns.1.0, columns.2.0))
    row(1, (columns.0.1, columns.1.1, columns.2.1))
    row(2, (columns.0.2, columns.1.2, columns.2.2))
    row(3, (columns.0.3, columns.1.3, columns.2.3))
  }
}
