/// Winograd's minimal filtering F(2, 7) along one axis, for the 1×7 and 7×1, stride-1,
/// ungrouped convolutions of wide layers (Inception-v3's middle blocks: a quarter of its
/// multiply-adds, which the unfolded path ran at OpenBLAS's rate with a column matrix seven
/// times its input).
///
/// Each two outputs along the filter's axis (a tile) are read from eight inputs. Moved into the
/// transform domain on the points 0, ±1, ±2, ±½ and ∞ (`Bᵀ d` for input, `G g` for a filter), a
/// tile's seven-tap convolution becomes eight elementwise products, so the whole layer is eight
/// matrix products of [o × c]·[c × tiles] (`8·o·c·T` multiply-adds) where the unfolded path does
/// `14·o·c·T`: 1.75× fewer. Its rounding, measured in NumPy on random tiles against float64 (the
/// worst of 200, relative to the output or 1): 7e-6 over 16 channels, 3.4e-5 over 192, about
/// twice F(2×2, 3×3)'s over as many multiply-adds and ten times the direct sum's.
///
/// The points are closed under `p ↦ 1/p`, so turning a filter permutes its transform
/// (`G J = P G`, P swapping the transforms at 0 and ∞, 2 and ½, −2 and −½): the input gradient,
/// the convolution of the output gradient with the filters turned and padded `6 − p`, reads the
/// forward pass's transformed filters, as `Winograd` does.
enum LineWinograd {
  /// The axis the seven taps lie along: `.width` for 1×7, `.height` for 7×1.
  enum Axis { case width, height }

  /// As for `Winograd`: fewer tiles than this leave the products bound by reading the filters.
  static let minimumTiles = 49

  static func axis(_ s: ConvShape) -> Axis? {
    switch (s.kh, s.kw) {
    case (1, 7): .width
    case (7, 1): .height
    default: nil
    }
  }

  /// Whether a convolution's forward pass goes this way.
  static func servesForward(_ s: ConvShape) -> Bool {
    guard let axis = axis(s), s.geo.stride == (1, 1), s.geo.groups == 1, s.c >= 16, s.o >= 16 else { return false }
    return plan(s, axis, padding: s.geo.padding, transposed: false).tiles >= minimumTiles
  }

  /// Whether its input gradient does: the transposed convolution needs padding `6 − p ≥ 0`
  /// along the taps and none across them.
  static func servesInputGradient(_ s: ConvShape) -> Bool {
    guard servesForward(s), let axis = axis(s) else { return false }
    let (along, across) = axis == .width ? (s.geo.padding.1, s.geo.padding.0) : (s.geo.padding.0, s.geo.padding.1)
    return along <= 6 && across == 0
  }

  /// `y = conv2d(x, w)`.
  static func conv2d(_ x: UnsafePointer<Float>, _ w: TensorStorage, _ s: ConvShape, into y: UnsafeMutablePointer<Float>) {
    guard let axis = axis(s) else { preconditionFailure("LineWinograd serves 1×7 and 7×1 filters only") }
    plan(s, axis, padding: s.geo.padding, transposed: false).convolve(x, filters(w, s).base, turned: false, into: y)
  }

  /// `gx = ∂<gy, conv2d(x, w)>/∂x`, overwriting `gx`: by the same transformed filters, read turned.
  static func conv2dInputGradient(
    _ gy: UnsafePointer<Float>, _ w: TensorStorage, _ s: ConvShape, into gx: UnsafeMutablePointer<Float>
  ) {
    guard let axis = axis(s) else { preconditionFailure("LineWinograd serves 1×7 and 7×1 filters only") }
    let padding = axis == .width ? (0, 6 - s.geo.padding.1) : (6 - s.geo.padding.0, 0)
    plan(s, axis, padding: padding, transposed: true).convolve(gy, filters(w, s).base, turned: true, into: gx)
  }

  /// The plan of the forward convolution, or of the transposed one behind its input gradient.
  private static func plan(_ s: ConvShape, _ axis: Axis, padding: (Int, Int), transposed: Bool) -> Plan {
    transposed
      ? Plan(axis: axis, n: s.n, channels: s.o, height: s.oh, width: s.ow, padding: padding, outputs: s.c, out: (s.h, s.w))
      : Plan(axis: axis, n: s.n, channels: s.c, height: s.h, width: s.w, padding: padding, outputs: s.o, out: (s.oh, s.ow))
  }

  /// The transformed filters of `w`, kept with it.
  private static func filters(_ w: TensorStorage, _ s: ConvShape) -> TensorStorage {
    Winograd.transformedFilters(w, s, planes: 8, filterTransform)
  }

  /// `G g` of each of the `count` seven-tap filters of `w` into `u` [8, count], eight filters at
  /// a time in the lanes (the missing ones repeat the last).
  static func filterTransform(_ w: UnsafePointer<Float>, count: Int, into u: UnsafeMutablePointer<Float>) {
    let u = Shared(u)
    Kernels.parallel((count + 7) / 8, work: 20 * count) { groups in
      for group in groups {
        let first = 8 * group
        let lanes = Swift.min(8, count - first)
        let tap = { (k: Int) -> SIMD8<Float> in
          var t = SIMD8<Float>()
          for l in 0..<8 { t[l] = w[7 * (first + Swift.min(l, lanes - 1)) + k] }
          return t
        }
        transform(tap) { xi, value in
          let at = u.pointer + xi * count + first
          for l in 0..<lanes { at[l] = value[l] }
        }
      }
    }
  }

  /// `G g` of eight filters at once, tap `k` of each in `g(k)`: calls `put(ξ, value)` for the
  /// eight elements of the result.
  @inline(__always)
  static func transform(_ g: (Int) -> SIMD8<Float>, _ put: (Int, SIMD8<Float>) -> Void) {
    // G's rows: −g₀; −2/9 Σ g(±1)ᵏ; 1/90 Σ (±2)ᵏ gₖ; 1/90 Σ (±2)^(6−k) gₖ (the points ±½, scaled); −g₆.
    let g = (g(0), g(1), g(2), g(3), g(4), g(5), g(6))
    let (even1, odd1) = (g.0 + g.2 + g.4 + g.6, g.1 + g.3 + g.5)
    let (even2, odd2) = (g.0 + 4 * g.2 + 16 * g.4 + 64 * g.6, 2 * g.1 + 8 * g.3 + 32 * g.5)
    let (even3, odd3) = (64 * g.0 + 16 * g.2 + 4 * g.4 + g.6, 32 * g.1 + 8 * g.3 + 2 * g.5)
    let (ninth, ninetieth): (Float, Float) = (-2.0 / 9, 1.0 / 90)
    put(0, -g.0)
    put(1, ninth * (even1 + odd1))
    put(2, ninth * (even1 - odd1))
    put(3, ninetieth * (even2 + odd2))
    put(4, ninetieth * (even2 - odd2))
    put(5, ninetieth * (even3 + odd3))
    put(6, ninetieth * (even3 - odd3))
    put(7, -g.6)
  }
}
