extension Winograd {
  /// Four columns (or rows) of eight tiles.
  typealias Quad = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)

  /// Where a run of up to eight consecutive tiles (in one panel row) sits in the transformed
  /// planes, `spread` floats apart.
  struct Place {
    let base: UnsafeMutablePointer<Float>
    let spread: Int

    /// All eight lanes, past a short run too (see `Plan.inputTransform`).
    @inline(__always)
    func store(_ value: SIMD8<Float>, _ plane: Int) {
      UnsafeMutableRawPointer(base + plane * spread).storeBytes(of: value, as: SIMD8<Float>.self)
    }

    /// All eight, past a short run too (into the next row of the panel, or the gap after it):
    /// the lanes past the run are never written out.
    @inline(__always)
    func load(_ plane: Int) -> SIMD8<Float> {
      UnsafeRawPointer(base + plane * spread).loadUnaligned(as: SIMD8<Float>.self)
    }
  }

  @inline(__always) static func add(_ a: Quad, _ b: Quad) -> Quad { Quad(a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3 + b.3) }
  @inline(__always) static func sub(_ a: Quad, _ b: Quad) -> Quad { Quad(a.0 - b.0, a.1 - b.1, a.2 - b.2, a.3 - b.3) }

  /// `Bᵀ d B` of the 4×4 input blocks of a run of eight tiles, the block's rows `d` (four
  /// columns each), to planes 0 ..< 16 at `at`: the forward pass's transform, and the filter
  /// gradient's of the same input.
  @inline(__always)
  static func inputTileTransform(_ d: (Quad, Quad, Quad, Quad), _ at: Place) {
    // Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], down the columns, then along the rows.
    along(sub(d.0, d.2), at, 0)
    along(add(d.1, d.2), at, 4)
    along(sub(d.2, d.1), at, 8)
    along(sub(d.1, d.3), at, 12)
  }

  /// `s B` of one row `s` of `Bᵀ d`, to transformed planes `first ..< first + 4`.
  @inline(__always)
  private static func along(_ s: Quad, _ at: Place, _ first: Int) {
    at.store(s.0 - s.2, first)
    at.store(s.1 + s.2, first + 1)
    at.store(s.2 - s.1, first + 2)
    at.store(s.1 - s.3, first + 3)
  }

  /// Columns `j ..< j + 4` of eight consecutive tiles two apart starting at `d`: column `j` of
  /// tile `k` is `d[2k + j]`, the first from `d`.
  @inline(__always)
  static func evenOddColumns(_ d: UnsafePointer<Float>) -> Quad {
    let a = UnsafeRawPointer(d).loadUnaligned(as: SIMD16<Float>.self)
    let b = UnsafeRawPointer(d + 2).loadUnaligned(as: SIMD16<Float>.self)
    return Quad(a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
  }

  /// The first `columns` of a row whose even columns are `even` and odd ones `odd`, from `at`.
  @inline(__always)
  static func interleave(_ even: SIMD8<Float>, _ odd: SIMD8<Float>, into at: UnsafeMutablePointer<Float>, _ columns: Int) {
    var both = SIMD16<Float>()
    both.evenHalf = even
    both.oddHalf = odd
    if columns == 16 {
      UnsafeMutableRawPointer(at).storeBytes(of: both, as: SIMD16<Float>.self)
    } else {
      for k in 0..<columns { at[k] = both[k] }
    }
  }

  /// `planes` planes of `height × width` zero-padded into `rows × columns` each, the input at
  /// `padding` (cut where the padded plane ends), split over the threads.
  static func pad(
    _ x: UnsafeMutablePointer<Float>, planes: Int, height: Int, width: Int, padding: (Int, Int),
    into padded: UnsafeMutablePointer<Float>, rows: Int, columns: Int
  ) {
    let (x, padded) = (Shared(x), Shared(padded))
    Kernels.parallel(planes, work: planes * rows * columns) { range in
      for p in range {
        let (plane, out) = (x.pointer + p * height * width, padded.pointer + p * rows * columns)
        // Each float written once: the zeros around the input, then its rows.
        let across = Swift.min(width, columns - padding.1)
        let inside = Swift.max(0, Swift.min(height, rows - padding.0))
        out.initialize(repeating: 0, count: padding.0 * columns)
        for r in 0..<inside {
          let row = out + (r + padding.0) * columns
          row.initialize(repeating: 0, count: padding.1)
          Kernels.copyRow(row + padding.1, plane + r * width, count: across)
          (row + padding.1 + across).initialize(repeating: 0, count: columns - padding.1 - across)
        }
        let below = (padding.0 + inside) * columns
        (out + below).initialize(repeating: 0, count: rows * columns - below)
      }
    }
  }
}

/// A pointer handed to the threads of `Kernels.parallel`, each of which touches its own part.
struct Shared: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<Float>
  init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
}

extension SIMD8 where Scalar == Float {
  /// Stores the first `lanes` (≤ 8) lanes from `at` on: a whole vector when all eight.
  @inline(__always)
  func store(lanes: Int, at: UnsafeMutablePointer<Float>) {
    if lanes == 8 {
      UnsafeMutableRawPointer(at).storeBytes(of: self, as: SIMD8<Float>.self)
    } else {
      for k in 0..<lanes { at[k] = self[k] }
    }
  }
}
