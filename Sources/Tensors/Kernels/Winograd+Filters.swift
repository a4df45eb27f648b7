import CGatherProduct

extension Winograd {
  /// `G g Gᵀ` of each of the `count` 3×3 filters of `w` into `u` [16, count]: eight filters at a
  /// time in the lanes, so that each of the 16 planes is written in whole runs (a filter's 16
  /// values land `count` apart). A seed's filters are transformed at every evaluation.
  /// `wide`: sixteen at a time in AVX-512 (`fedsim_winograd_filter_transform16`), else, `vector`,
  /// eight at a time in AVX2 (`fedsim_winograd_filter_transform8`), the same values: eight lanes
  /// in Swift (the portable path) compile to scalar arithmetic and spills, and a seed's
  /// transforms took 5% of a ResNet-18 evaluation on Zen 5 that way, 3% wide; 3.6% on Zen 3.
  /// Tests compare the three.
  static func filterTransform(
    _ w: UnsafePointer<Float>, count: Int, into u: UnsafeMutablePointer<Float>,
    wide: Bool = Winograd.wideTransforms, vector: Bool = Winograd.panelKernel
  ) {
    if wide || vector {
      let (width, transform) = wide
        ? (16, fedsim_winograd_filter_transform16) : (8, fedsim_winograd_filter_transform8)
      return inGroups(w, count: count, of: width, work: 25 * count, into: u, transform)
    }
    let u = Shared(u)
    Kernels.parallel((count + 7) / 8, work: 25 * count) { groups in
      for group in groups {
        let first = 8 * group
        let lanes = Swift.min(8, count - first)
        let g = w + 9 * first
        if lanes == 8 {
          transform({ k in SIMD8(g[k], g[9 + k], g[18 + k], g[27 + k], g[36 + k], g[45 + k], g[54 + k], g[63 + k]) }) {
            xi, value in UnsafeMutableRawPointer(u.pointer + xi * count + first).storeBytes(of: value, as: SIMD8<Float>.self)
          }
        } else {
          // The last, short group: the missing filters repeat the last.
          let tap = { (k: Int) -> SIMD8<Float> in
            var t = SIMD8<Float>()
            for l in 0..<8 { t[l] = g[9 * Swift.min(l, lanes - 1) + k] }
            return t
          }
          transform(tap) { xi, value in
            let at = u.pointer + xi * count + first
            for l in 0..<lanes { at[l] = value[l] }
          }
        }
      }
    }
  }

  /// A C filter transform (`fedsim_winograd_filter_transform16` and the like) of the `count`
  /// filters of `w` into `u`, in groups of `width` (its lanes), the groups split over the threads.
  static func inGroups(
    _ w: UnsafePointer<Float>, count: Int, of width: Int, work: Int, into u: UnsafeMutablePointer<Float>,
    _ transform: (UnsafePointer<Float>?, Int64, Int64, Int64, UnsafeMutablePointer<Float>?) -> Void
  ) {
    let u = Shared(u)
    Kernels.parallel((count + width - 1) / width, work: work) { groups in
      let first = width * groups.lowerBound
      let n = Swift.min(width * groups.upperBound, count) - first
      transform(w, Int64(first), Int64(n), Int64(count), u.pointer)
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
