extension Winograd {
  /// The tiles of a filter gradient by F(2×2, 3×3) (`Winograd.conv2dFilterGradient`): the
  /// forward pass's 2×2 output tiles, tile `t` of sample `b` being `b·perSample + t`, and
  /// the transformed tiles laid out as plain matrices [16, rows, stride], a row's tiles
  /// contiguous, so that each plane's sum over the tiles is one product. Rows go to the threads
  /// whole, and each row's tiles are written in order: the eight lanes a short run stores past
  /// its end are the next run's, written over later by the same thread, or past the last tile.
  struct FilterGradientGrid {
    let s: ConvShape
    let tilesDown: Int, tilesAcross: Int

    init(_ s: ConvShape) {
      self.s = s
      (tilesDown, tilesAcross) = ((s.oh + 1) / 2, (s.ow + 1) / 2)
    }

    var perSample: Int { tilesDown * tilesAcross }
    var tiles: Int { s.n * perSample }
    /// Floats from one row to the next: room for eight lanes past the last tile, an odd number
    /// of cache lines (rows a power of two apart would share cache sets).
    var stride: Int { (((tiles + 8 + 15) / 16) | 1) * 16 }

    /// Calls `body(sample, ty, tx, count, t)` for each run of up to eight tiles of a tile row,
    /// in order.
    @inline(__always)
    private func forEachRun(_ body: (Int, Int, Int, Int, Int) -> Void) {
      for b in 0..<s.n {
        for ty in 0..<tilesDown {
          var tx = 0
          while tx < tilesAcross {
            let count = Swift.min(8, tilesAcross - tx)
            body(b, ty, tx, count, b * perSample + ty * tilesAcross + tx)
            tx += count
          }
        }
      }
    }

    /// `Bᵀ d B` of every 4×4 input block (two apart) of every channel, into `v` [16, c, stride],
    /// from a zero-padded copy of the input (as the forward pass transforms it).
    func inputTransform(_ x: UnsafePointer<Float>, into v: UnsafeMutablePointer<Float>) {
      let (rows, columns) = (2 * tilesDown + 2, 2 * tilesAcross + 16)
      let (c, h, w, stride) = (s.c, s.h, s.w, stride)
      Scratch.with(s.n * c * rows * columns) { padded in
        Winograd.pad(
          UnsafeMutablePointer(mutating: x), planes: s.n * c, height: h, width: w, padding: s.geo.padding,
          into: padded, rows: rows, columns: columns)
        let (v, padded) = (Shared(v), Shared(padded))
        Kernels.parallel(c, work: 16 * c * tiles) { channels in
          for channel in channels {
            forEachRun { b, ty, tx, _, t in
              let d = padded.pointer + ((b * c + channel) * rows + 2 * ty) * columns + 2 * tx
              let row = { (r: Int) in Winograd.evenOddColumns(d + r * columns) }
              let (d0, d1, d2, d3) = (row(0), row(1), row(2), row(3))
              let at = Place(base: v.pointer + channel * stride + t, spread: c * stride)
              // Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], down the columns, then along the rows.
              Self.along(Self.combine(d0, d2, -1), at, 0)
              Self.along(Self.combine(d1, d2, 1), at, 4)
              Self.along(Self.combine(d2, d1, -1), at, 8)
              Self.along(Self.combine(d1, d3, -1), at, 12)
            }
          }
        }
      }
    }

    /// `A g Aᵀ` of every 2×2 output-gradient tile (zero past the edges) of every output plane,
    /// into `p` [16, o, stride].
    func gradientTransform(_ gy: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>) {
      let (rows, columns) = (2 * tilesDown, 2 * tilesAcross + 16)
      let (o, stride) = (s.o, stride)
      Scratch.with(s.n * o * rows * columns) { padded in
        Winograd.pad(
          UnsafeMutablePointer(mutating: gy), planes: s.n * o, height: s.oh, width: s.ow, padding: (0, 0),
          into: padded, rows: rows, columns: columns)
        let (p, padded) = (Shared(p), Shared(padded))
        Kernels.parallel(o, work: 16 * o * tiles) { outputs in
          for output in outputs {
            forEachRun { b, ty, tx, _, t in
              let g = padded.pointer + ((b * o + output) * rows + 2 * ty) * columns + 2 * tx
              let top = Winograd.evenOddColumns(g)
              let bottom = Winograd.evenOddColumns(g + columns)
              let at = Place(base: p.pointer + output * stride + t, spread: o * stride)
              // A = [1 0; 1 1; 1 −1; 0 −1], down the columns, then along the rows.
              Self.expand(top.0, top.1, at, 0)
              Self.expand(top.0 + bottom.0, top.1 + bottom.1, at, 4)
              Self.expand(top.0 - bottom.0, top.1 - bottom.1, at, 8)
              Self.expand(-bottom.0, -bottom.1, at, 12)
            }
          }
        }
      }
    }

    /// `a + sign·b`, column by column.
    @inline(__always)
    private static func combine(_ a: Quad, _ b: Quad, _ sign: Float) -> Quad {
      sign > 0 ? Quad(a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3 + b.3) : Quad(a.0 - b.0, a.1 - b.1, a.2 - b.2, a.3 - b.3)
    }

    /// `s B` of one row `s` of `Bᵀ d`, to planes `first ..< first + 4`.
    @inline(__always)
    private static func along(_ s: Quad, _ at: Place, _ first: Int) {
      at.store(s.0 - s.2, first)
      at.store(s.1 + s.2, first + 1)
      at.store(s.2 - s.1, first + 2)
      at.store(s.1 - s.3, first + 3)
    }

    /// `r Aᵀ` of one row `r` = (first, second) of `A g`, to planes `first ..< first + 4`.
    @inline(__always)
    private static func expand(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ at: Place, _ first: Int) {
      at.store(a, first)
      at.store(a + b, first + 1)
      at.store(a - b, first + 2)
      at.store(-b, first + 3)
    }
  }
}
