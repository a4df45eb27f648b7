extension Winograd {
  /// One F(2×2, 3×3) convolution: `n` samples of `channels` planes of `height × width`, padded
  /// by `padding`, into `outputs` planes of `out`. Transformed tiles lie [16, channels, lanes] and
  /// their products [16, outputs, lanes], tile `t` of sample `b` at `b·perSample + t`; `lanes`
  /// is the tile count rounded up to whole blocks of 16, the products' width.
  struct Plan {
    let n: Int, channels: Int, height: Int, width: Int
    let padding: (Int, Int)
    let outputs: Int
    let out: (Int, Int)

    var tilesDown: Int { (out.0 + 1) / 2 }
    var tilesAcross: Int { (out.1 + 1) / 2 }
    var perSample: Int { tilesDown * tilesAcross }
    var tiles: Int { n * perSample }
    var lanes: Int { (tiles + 15) / 16 * 16 }

    /// `y = Σ_c x[c] ⋆ g[·, c]` for the filters whose transform `u` [16, outputs, channels] is.
    /// `turned`: by the turned filters, `u` being the transform of [channels, outputs, 3, 3].
    func convolve(_ x: UnsafePointer<Float>, _ u: UnsafePointer<Float>, turned: Bool, into y: UnsafeMutablePointer<Float>) {
      let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * channels * lanes)
      let m = UnsafeMutablePointer<Float>.allocate(capacity: 16 * outputs * lanes + 8)  // eight over: whole loads
      defer { (v.deallocate(), m.deallocate()) }
      inputTransform(x, into: v)
      products(u, v, turned: turned, into: m)
      outputTransform(m, into: y)
    }

    /// `Bᵀ d B` of every 4×4 input block `d` (two apart in both directions) of every plane,
    /// eight tiles of a row at once.
    func inputTransform(_ x: UnsafePointer<Float>, into v: UnsafeMutablePointer<Float>) {
      // Room for whole groups of eight tiles: their columns are read sixteen at a time.
      let (rows, columns) = (2 * tilesDown + 2, 2 * Self.eights(tilesAcross) + 2)
      let spread = channels * lanes  // between the 16 transformed planes
      let (x, v) = (Shared(UnsafeMutablePointer(mutating: x)), Shared(v))
      Kernels.parallel(n * channels) { planes in
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: rows * columns)
        defer { padded.deallocate() }
        for p in planes {
          let (b, c) = p.quotientAndRemainder(dividingBy: channels)
          pad(x.pointer + p * height * width, into: padded, rows: rows, columns: columns)
          let target = v.pointer + c * lanes + b * perSample
          for ty in 0..<tilesDown {
            var tx = 0
            while tx < tilesAcross {
              let d = padded + 2 * ty * columns + 2 * tx
              let (d0, d1, d2, d3) = (columnsOf(d), columnsOf(d + columns), columnsOf(d + 2 * columns), columnsOf(d + 3 * columns))
              // Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], down the columns, then along the rows.
              let at = Place(base: target + ty * tilesAcross + tx, spread: spread, count: Swift.min(8, tilesAcross - tx))
              along(sub(d0, d2), at, 0)
              along(add(d1, d2), at, 4)
              along(sub(d2, d1), at, 8)
              along(sub(d1, d3), at, 12)
              tx += 8
            }
          }
        }
      }
    }

    static func eights(_ count: Int) -> Int { (count + 7) / 8 * 8 }

    /// One plane zero-padded into `rows × columns`, the input at `padding`.
    private func pad(_ plane: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
      padded.initialize(repeating: 0, count: rows * columns)
      let across = Swift.min(width, columns - padding.1)
      for r in 0..<Swift.min(height, rows - padding.0) {
        Kernels.copyRow(padded + (r + padding.0) * columns + padding.1, plane + r * width, count: across)
      }
    }

    /// The four columns of one row of eight consecutive tiles starting at `d`: column `j` of
    /// tile `k` is `d[2k + j]`.
    @inline(__always)
    private func columnsOf(_ d: UnsafeMutablePointer<Float>) -> Quad {
      let a = UnsafeRawPointer(d).loadUnaligned(as: SIMD16<Float>.self)
      let b = UnsafeRawPointer(d + 2).loadUnaligned(as: SIMD16<Float>.self)
      return Quad(a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
    }

    @inline(__always) private func add(_ a: Quad, _ b: Quad) -> Quad { Quad(a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3 + b.3) }
    @inline(__always) private func sub(_ a: Quad, _ b: Quad) -> Quad { Quad(a.0 - b.0, a.1 - b.1, a.2 - b.2, a.3 - b.3) }

    /// `s B` of one row `s` of `Bᵀ d`, to transformed planes `first ..< first + 4`.
    @inline(__always)
    private func along(_ s: Quad, _ at: Place, _ first: Int) {
      at.store(s.0 - s.2, first)
      at.store(s.1 + s.2, first + 1)
      at.store(s.2 - s.1, first + 2)
      at.store(s.1 - s.3, first + 3)
    }

    /// `Aᵀ m A` of every tile's 16 products, the 2×2 output block (cut at an odd edge), eight
    /// tiles of a row at once.
    func outputTransform(_ m: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>) {
      let spread = outputs * lanes
      let (m, y) = (Shared(m), Shared(y))
      Kernels.parallel(n * outputs) { planes in
        for p in planes {
          let (b, o) = p.quotientAndRemainder(dividingBy: outputs)
          let source = m.pointer + o * lanes + b * perSample
          let plane = y.pointer + p * out.0 * out.1
          for ty in 0..<tilesDown {
            var tx = 0
            while tx < tilesAcross {
              let at = Place(base: source + ty * tilesAcross + tx, spread: spread, count: Swift.min(8, tilesAcross - tx))
              let m0 = Quad(at.load(0), at.load(1), at.load(2), at.load(3))
              let m1 = Quad(at.load(4), at.load(5), at.load(6), at.load(7))
              let m2 = Quad(at.load(8), at.load(9), at.load(10), at.load(11))
              let m3 = Quad(at.load(12), at.load(13), at.load(14), at.load(15))
              // Aᵀ = [1 1 1 0; 0 1 −1 −1], down the columns, then along the rows.
              let top = add(add(m0, m1), m2)
              let bottom = sub(sub(m1, m2), m3)
              put(top.0 + top.1 + top.2, top.1 - top.2 - top.3, plane, 2 * ty, 2 * tx)
              if 2 * ty + 1 < out.0 {
                put(bottom.0 + bottom.1 + bottom.2, bottom.1 - bottom.2 - bottom.3, plane, 2 * ty + 1, 2 * tx)
              }
              tx += 8
            }
          }
        }
      }
    }

    /// One output row of eight tiles from its even and odd columns, from column `c` on (cut at
    /// the plane's edge).
    @inline(__always)
    private func put(_ even: SIMD8<Float>, _ odd: SIMD8<Float>, _ plane: UnsafeMutablePointer<Float>, _ r: Int, _ c: Int) {
      var both = SIMD16<Float>()
      both.evenHalf = even
      both.oddHalf = odd
      let at = plane + r * out.1 + c
      if c + 16 <= out.1 {
        UnsafeMutableRawPointer(at).storeBytes(of: both, as: SIMD16<Float>.self)
      } else {
        for k in 0..<(out.1 - c) { at[k] = both[k] }
      }
    }
  }

  /// Four columns (or rows) of eight tiles.
  typealias Quad = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)

  /// Where eight consecutive tiles (`count` of them real) sit in the 16 transformed planes,
  /// `spread` floats apart.
  struct Place {
    let base: UnsafeMutablePointer<Float>
    let spread: Int
    let count: Int

    @inline(__always)
    func store(_ value: SIMD8<Float>, _ plane: Int) {
      let at = base + plane * spread
      if count == 8 {
        UnsafeMutableRawPointer(at).storeBytes(of: value, as: SIMD8<Float>.self)
      } else {
        for k in 0..<count { at[k] = value[k] }
      }
    }

    /// All eight, past `count` too: the products' buffer has room for it, and the lanes past
    /// `count` are never written out.
    @inline(__always)
    func load(_ plane: Int) -> SIMD8<Float> {
      UnsafeRawPointer(base + plane * spread).loadUnaligned(as: SIMD8<Float>.self)
    }
  }
}

/// A pointer handed to the threads of `Kernels.parallel`, each of which touches its own part.
struct Shared: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<Float>
  init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
}
