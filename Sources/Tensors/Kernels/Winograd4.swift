import CGatherProduct

/// Winograd's F(4×4, 3×3) for the 3×3, stride-1, ungrouped convolutions of wide layers over
/// many tiles: each 4×4 block of output is read from a 6×6 block of input, and a tile's 3×3
/// convolution becomes 36 elementwise products in the transform domain, so the layer is 36
/// matrix products of [o × c]·[c × tiles] over a quarter as many tiles as F(2×2, 3×3)'s
/// (`Winograd`): 36 multiply-adds for 16 outputs, 2.25 an output against its 4 (and the
/// unfolded product's 9).
///
/// The points are 0, 1, −1, 2, ½ and ∞: closed under p ↦ 1/p, so that turning a filter 180°
/// permutes its transform (`G J = P G`, P swapping 0 with ∞ and 2 with ½) and the input
/// gradient reads the forward pass's transformed filters, as `Winograd` does. With
///
///     Bᵀ = [2 −5 0 5 −2 0; 0 −2 3 3 −2 0; 0 2 −7 7 −2 0; 0 1 −2 −1 2 0; 0 2 −1 −2 1 0; 0 −2 5 0 −5 2]
///     G  = [½ 0 0; ½ ½ ½; −1/18 1/18 −1/18; 1/18 1/9 2/9; 2/9 1/9 1/18; 0 0 ½]
///     Aᵀ = [1 1 1 1 8 0; 0 1 −1 2 4 0; 0 1 1 4 2 0; 0 1 −1 8 1 1]
///
/// the input's transform has small integer weights and the filters' and outputs' carry the
/// scaling. Its rounding is about ten times F(2×2, 3×3)'s (float32 against float64 over 64
/// channels of inputs in [0, 1]: relative error 1.7·10⁻⁶ median, 8.5·10⁻⁶ at most, against
/// 1.5·10⁻⁷ and 5.7·10⁻⁷). The products are `Winograd`'s, and a layer whose filters' transform
/// is small goes a band of blocks at a time as `Winograd`'s does (`WinogradBanded`).
///
/// On an Intel Emerald Rapids (one thread, `fedsim bench --big-layers`, ms an evaluation, F(4×4)
/// against F(2×2)): ResNet-18's 64 → 64 over 56×56 9.1–9.3 against 11.0–11.8 each way, its
/// 128 → 128 over 28×28 7.3–8.0 against 8.0–9.7; Inception-v3's 80 → 192 over 2×73×73 21 against
/// 31 forward and 30 against 36 backward, every one of its 3×3 layers over 35×35 and more faster
/// but one even (32 → 32 over 149×149, input gradient 15.4 against 15.0). Not measured on AMD's
/// AVX-512. On a Zen 3 (AVX2, the eight-lane transforms): ResNet-18's 64 → 64 over 56×56
/// 16.0–16.8 against 19.6–20.9, its 128 → 128 14.4–14.7 against 14.5–15.6; Inception-v3's
/// 80 → 192 39 against 51 forward and 54 against 63 backward, its 32 → 64 over 2×147×147 32
/// against 42 and 37 against 47.
enum Winograd4 {
  /// A convolution's tiles: four by four outputs of every image.
  static func tiles(_ s: ConvShape) -> Int { s.n * ((s.oh + 3) / 4) * ((s.ow + 3) / 4) }

  /// Whether a convolution's forward pass goes this way: one F(2×2, 3×3) would take, with at
  /// least `minimumTiles` tiles of its own.
  static func servesForward(_ s: ConvShape) -> Bool {
    enabled && Winograd.servesForward(s) && tiles(s) >= minimumTiles
  }

  /// Whether its input gradient does: the transposed convolution needs padding `2 − p ≥ 0`.
  static func servesInputGradient(_ s: ConvShape) -> Bool {
    servesForward(s) && s.geo.padding.0 <= 2 && s.geo.padding.1 <= 2
  }

  /// Fewer tiles than this go by F(2×2, 3×3), four times as many of its own: 48 takes
  /// ResNet-18's 28×28 layers (49 tiles) and leaves its 14×14 (16), where one block reads 9 MiB
  /// of transformed filters for few products and lost: 11.7–13.4 ms an evaluation each way
  /// against 9.1–10.4.
  static let minimumTiles = 48

  /// Where the transforms run: sixteen lanes at a time in AVX-512 (`winograd4_transforms.c`)
  /// where `Winograd.wideTransforms`, else eight in AVX2 (`winograd4_transforms_avx2.c`), the
  /// same values; a CPU without AVX2 and FMA keeps F(2×2, 3×3).
  static let enabled = Winograd.panelKernel

  /// `y = conv2d(x, w)`.
  static func conv2d(_ x: UnsafePointer<Float>, _ w: TensorStorage, _ s: ConvShape, into y: UnsafeMutablePointer<Float>) {
    Plan.forward(s).convolve(x, filters(w, s).base, turned: false, into: y)
  }

  /// `gx = ∂<gy, conv2d(x, w)>/∂x`, overwriting `gx`: by the same transformed filters, read
  /// turned.
  static func conv2dInputGradient(
    _ gy: UnsafePointer<Float>, _ w: TensorStorage, _ s: ConvShape, into gx: UnsafeMutablePointer<Float>
  ) {
    Plan.inputGradient(s).convolve(gy, filters(w, s).base, turned: true, into: gx)
  }

  /// The transformed filters of `w`, kept with it.
  private static func filters(_ w: TensorStorage, _ s: ConvShape) -> TensorStorage {
    Winograd.transformedFilters(w, s, planes: Plan.planes) { filterTransform($0, count: $1, into: $2) }
  }

  /// `G g Gᵀ` of each of the `count` 3×3 filters of `w` into `u` [36, count], sixteen (or
  /// eight) at a time (`fedsim_winograd4_filter_transform16`, `…8`), the groups split over the
  /// threads.
  static func filterTransform(_ w: UnsafePointer<Float>, count: Int, into u: UnsafeMutablePointer<Float>) {
    let (width, transform) = Winograd.wideTransforms
      ? (16, fedsim_winograd4_filter_transform16) : (8, fedsim_winograd4_filter_transform8)
    Winograd.inGroups(w, count: count, of: width, work: 100 * count, into: u, transform)
  }
}
