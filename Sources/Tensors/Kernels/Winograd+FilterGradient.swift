extension Winograd {
  /// Whether a convolution's filter gradient goes by Winograd's transforms: as its forward pass,
  /// from 49 tiles (Inception-v3's 3×3 448 → 384 over 2×8×8, 32 tiles, took 10.0 ms an
  /// evaluation this way against 7.9 unfolded).
  static func servesFilterGradient(_ s: ConvShape) -> Bool {
    servesForward(s) && tiles(s) >= minimumFilterGradientTiles && !(intel && wideAtFewTiles(s))
  }

  static let minimumFilterGradientTiles = 49

  /// Whether a filter gradient has few tiles (each of its 16 products sums over the tiles) and
  /// more than 1 MiB of transformed gradient (16·o·c floats). On Intel's cores such ones lost to
  /// the unfolded product (an Emerald Rapids, ms an evaluation: ResNet-18's 256 → 256 over
  /// 14×14, 4 MiB, 12.2–14.3 against 8.3–8.8 unfolded), where small ones still gain
  /// (DenseNet-121's 128 → 32 over 14×14, 256 KiB: 5.3–7.9 against 8.3–9.8). The bound lies
  /// between the two measured; no layer of the three models falls between them.
  static func wideAtFewTiles(_ s: ConvShape) -> Bool { tiles(s) < 64 && 16 * s.o * s.c * 4 > 1 << 20 }

  /// `gw = ∂<gy, conv2d(x, w)>/∂w` through F(2×2, 3×3)'s transforms, overwriting `gw`.
  ///
  /// The forward pass is `y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A` a tile, so the filter gradient is
  /// `Gᵀ[Σ_tiles (A ∂y Aᵀ) ⊙ (Bᵀ d B)]G`: the input's tiles transformed as the forward pass
  /// transforms them, the output gradient's 2×2 tiles by `A · Aᵀ`, and for each of the 16
  /// planes one product [c × tiles]·[tiles × o] summed over the tiles: `16·o·c·T`
  /// multiply-adds where the unfolded product does `36·o·c·T`, and no column matrix (nine
  /// copies of the input) is built. The sums run over the tiles, as the unfolded product's run
  /// over the positions.
  static func conv2dFilterGradient(
    _ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>, _ s: ConvShape, into gw: UnsafeMutablePointer<Float>,
    panel: Bool? = nil
  ) {
    let grid = FilterGradientGrid(s)
    Scratch.with(16 * s.c * grid.stride) { v in
      Scratch.with(16 * grid.paddedOutputs * grid.tiles) { p in
        Scratch.with(16 * s.c * grid.paddedOutputs) { du in
          grid.inputTransform(x, into: v)
          grid.gradientTransform(gy, into: p)
          grid.products(v, p, into: du, panel: panel)
          filterGradientTransform(du, grid, into: gw)
        }
      }
    }
  }

  /// `Gᵀ m G` of each of the `o·c` 4×4 sums in `m` [16, c, paddedOutputs] (the transpose of
  /// `filterTransform`), into the 3×3 filters of `gw` [o, c, 3, 3], eight outputs at a time in
  /// the lanes.
  static func filterGradientTransform(_ m: UnsafePointer<Float>, _ grid: FilterGradientGrid, into gw: UnsafeMutablePointer<Float>) {
    let (channels, outputs, padded) = (grid.s.c, grid.s.o, grid.paddedOutputs)
    let groups = (outputs + 7) / 8
    let gw = Shared(gw)
    Kernels.parallel(channels * groups, work: 25 * channels * outputs) { items in
      for item in items {
        let (channel, group) = item.quotientAndRemainder(dividingBy: groups)
        let first = 8 * group
        let lanes = Swift.min(8, outputs - first)
        // Within the padded row whatever `lanes` is: rows are whole blocks of 16.
        let plane = { (xi: Int) -> SIMD8<Float> in
          UnsafeRawPointer(m + (xi * channels + channel) * padded + first).loadUnaligned(as: SIMD8<Float>.self)
        }
        // Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1], down the columns, then along the rows.
        typealias Four = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
        @inline(__always) func apply(_ v: Four) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
          let (sum, difference) = (0.5 * (v.1 + v.2), 0.5 * (v.1 - v.2))
          return (v.0 + sum, difference, sum + v.3)
        }
        let rows = (
          apply((plane(0), plane(4), plane(8), plane(12))), apply((plane(1), plane(5), plane(9), plane(13))),
          apply((plane(2), plane(6), plane(10), plane(14))), apply((plane(3), plane(7), plane(11), plane(15)))
        )
        let out = (
          apply((rows.0.0, rows.1.0, rows.2.0, rows.3.0)), apply((rows.0.1, rows.1.1, rows.2.1, rows.3.1)),
          apply((rows.0.2, rows.1.2, rows.2.2, rows.3.2))
        )
        for l in 0..<lanes {
          let f = gw.pointer + 9 * ((first + l) * channels + channel)
          (f[0], f[1], f[2]) = (out.0.0[l], out.0.1[l], out.0.2[l])
          (f[3], f[4], f[5]) = (out.1.0[l], out.1.1[l], out.1.2[l])
          (f[6], f[7], f[8]) = (out.2.0[l], out.2.1[l], out.2.2[l])
        }
      }
    }
  }
}
