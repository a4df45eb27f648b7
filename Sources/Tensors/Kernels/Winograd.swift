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
  /// kernel one block of 16 tiles suffices (Zen 3, one thread, ms an evaluation, forward pass and
  /// input gradient together): ResNet-18's 512 → 512 over 7×7 took 52–55 this way against 57
  /// unfolded, Inception-v3's 448 → 384 over 2×8×8 (32 tiles) 37 against 59, DenseNet-121's
  /// 128 → 32 over 7×7 9.4 against 12.4. Taken alone the input gradient, which reads its filters
  /// turned, six rows lying together a step, was slower than unfolded on ResNet-18's 16 MiB of
  /// them (32–34 against 29–30; since then each run of six fetches the next sixteen rows' lines,
  /// `by_six` in panel_product.c, and on a slower host they went 80–109 → 59–90); but the seed's
  /// filters in the DLG objective's second backward pass serve a forward pass and an input
  /// gradient, transformed once for both, and with the forward pass alone by Winograd the pair
  /// took longer than either way (59–64 and 54). Through BLAS a block at a time (no AVX2), 49
  /// tiles. Through the AVX-512 kernels, which fetch filters read transposed ahead, one block of
  /// 16 tiles suffices (Zen 4, ms an evaluation): ResNet-18's 512 → 512 over 7×7 ran its forward
  /// pass in 16–17 against 22–24 unfolded, its input gradient in 24–27 against 25–26;
  /// DenseNet-121's 128 → 32 over 7×7 both in 5.8 against 8.4. (Its filter gradient does not
  /// gain: `minimumFilterGradientTiles`.) Intel's AVX-512 cores (an Emerald Rapids, family 6
  /// model 207, 2026-12-07) read those 16 MiB of filters slower: there the 512 → 512 layers'
  /// forward pass took 34–40 ms an evaluation against 29–33 unfolded, the input gradient 49
  /// against 33–38; two blocks (Inception-v3's 448 → 384 over 2×8×8, 32 tiles) still gain:
  /// input gradient 22–24 against 25–27 unfolded.
  static let minimumTiles = !panelKernel ? 49 : wideTransforms && intel ? 32 : 16

  /// Whether the CPU is Intel's, for the choices measured per vendor.
  static let intel = fedsim_cpu_is_intel() != 0

  /// Whether the transforms run sixteen lanes at a time in AVX-512 (filters:
  /// `fedsim_winograd_filter_transform16`; tiles: `fedsim_winograd_input_run16`,
  /// `fedsim_winograd_output_run16`) rather than eight (tiles in Swift, filters in AVX2 C,
  /// `fedsim_winograd_filter_transform8`): the same values. Alternated at one thread on Zen 5,
  /// whole evaluations took 1.5–3% less (Inception-v3 835–842 → 817–833 ms, ResNet-18
  /// 131–134 → 127–129, DenseNet-121 292–296 → 287–290); the transforms went from 7% of an
  /// Inception-v3 profile to 5%.
  static let wideTransforms = fedsim_panel_product_wide() != 0

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
    Plan.inputGradient(s).convolve(gy, filters(w, s).base, turned: true, into: gx, inBands: inBands)
  }

  /// The transformed filters of `w`, kept with it.
  private static func filters(_ w: TensorStorage, _ s: ConvShape) -> TensorStorage {
    transformedFilters(w, s, planes: 16) { filterTransform($0, count: $1, into: $2) }
  }

  /// The `planes` transforms of `w`'s `o·c` filters by `transform`, kept with `w`: a model's
  /// weights serve every evaluation of an attack, and a filter gradient's seed serves both
  /// products of its pullback. (The shape tells which transform: one algorithm, F(2×2), F(4×4) or
  /// F(2, 7), serves a shape's forward pass and input gradient.)
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
}
