extension LineWinograd {
  /// One F(2, 7) convolution along `axis`: `n` samples of `channels` planes of `height × width`,
  /// padded by `padding`, into `outputs` planes of `out`. A tile is two outputs along the axis;
  /// tiles go row by row (`Winograd.BlockRuns`), their transforms and products in panels.
  struct Plan: WinogradTiling {
    let axis: Axis
    let n: Int, channels: Int, height: Int, width: Int
    let padding: (Int, Int)
    let outputs: Int
    let out: (Int, Int)

    var tilesDown: Int { axis == .width ? out.0 : (out.0 + 1) / 2 }
    var tilesAcross: Int { axis == .width ? (out.1 + 1) / 2 : out.1 }
    static var planes: Int { 8 }

    /// Turned, the transforms at 0 and ∞, 2 and ½, −2 and −½ swap.
    static func turnedPlane(_ xi: Int) -> Int { (0x0436_5217 >> (4 * xi)) & 7 }

    /// The padded copy's rows and columns: room for a run of eight from the last tile on.
    private var padded: (rows: Int, columns: Int) {
      axis == .width ? (out.0, 2 * tilesAcross + 20) : (2 * tilesDown + 6, out.1 + 8)
    }

    /// `y = Σ_c x[c] ⋆ g[·, c]` for the filters whose transform `u` [8, outputs, channels] is.
    /// `turned`: by the turned filters, `u` being the transform of [channels, outputs, 7].
    func convolve(_ x: UnsafePointer<Float>, _ u: UnsafePointer<Float>, turned: Bool, into y: UnsafeMutablePointer<Float>) {
      Scratch.with(tilePanels.count) { v in
        Scratch.with(productPanels.count) { m in
          let runs = Winograd.BlockRuns(self)
          inputTransform(x, into: v, runs)
          products(u, v, turned: turned, into: m)
          outputTransform(m, into: y, runs)
        }
      }
    }

    /// `Bᵀ d` of every eight inputs along the axis (two apart) of every plane, a run of up to
    /// eight tiles at once, block by block and channel by channel, from a zero-padded copy.
    func inputTransform(_ x: UnsafePointer<Float>, into v: UnsafeMutablePointer<Float>, _ runs: Winograd.BlockRuns) {
      let (rows, columns) = padded
      let panels = tilePanels
      Scratch.with(n * channels * rows * columns) { copy in
        Winograd.pad(
          UnsafeMutablePointer(mutating: x), planes: n * channels, height: height, width: width, padding: padding,
          into: copy, rows: rows, columns: columns)
        let (v, copy) = (Shared(v), Shared(copy))
        let axis = axis
        Kernels.parallel(panels.blocks, work: 8 * channels * lanes) { blocks in
          for block in blocks {
            for c in 0..<channels {
              for run in runs.of(block) {
                let plane = copy.pointer + (run.sample * channels + c) * rows * columns
                // All eight lanes, past a short run too (see `Winograd.Plan.inputTransform`).
                let at = Winograd.Place(base: v.pointer + panels.offset(0, tile: run.t, row: c), spread: panels.planeStride)
                if axis == .width {
                  let d = plane + run.ty * columns + 2 * run.tx
                  LineWinograd.inputTransform(Winograd.evenOddColumns(d), Winograd.evenOddColumns(d + 4), at)
                } else {
                  let d = plane + 2 * run.ty * columns + run.tx
                  let row = { (r: Int) in UnsafeRawPointer(d + r * columns).loadUnaligned(as: SIMD8<Float>.self) }
                  LineWinograd.inputTransform((row(0), row(1), row(2), row(3)), (row(4), row(5), row(6), row(7)), at)
                }
              }
            }
          }
        }
      }
    }

    /// `Aᵀ m` of every tile's eight products, its two outputs (the second cut at an odd edge), a
    /// run of up to eight tiles at once, block by block and output by output.
    func outputTransform(_ m: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>, _ runs: Winograd.BlockRuns) {
      let panels = productPanels
      let (m, y) = (Shared(m), Shared(y))
      let (axis, out) = (axis, out)
      Kernels.parallel(panels.blocks, work: 8 * outputs * lanes) { blocks in
        for block in blocks {
          for o in 0..<outputs {
            for run in runs.of(block) {
              let at = Winograd.Place(base: m.pointer + panels.offset(0, tile: run.t, row: o), spread: panels.planeStride)
              let (first, second) = LineWinograd.outputTransform(at)
              let plane = y.pointer + (run.sample * outputs + o) * out.0 * out.1
              if axis == .width {
                let c = 2 * run.tx
                Winograd.interleave(first, second, into: plane + run.ty * out.1 + c, Swift.min(2 * run.count, out.1 - c))
              } else {
                let at = plane + 2 * run.ty * out.1 + run.tx
                first.store(lanes: run.count, at: at)
                if 2 * run.ty + 1 < out.0 { second.store(lanes: run.count, at: at + out.1) }
              }
            }
          }
        }
      }
    }
  }

  /// `Bᵀ d` of a run's eight inputs `d₀ … d₇` (tiles in the lanes), to planes 0 ..< 8 at `at`.
  @inline(__always)
  static func inputTransform(_ low: Winograd.Quad, _ high: Winograd.Quad, _ at: Winograd.Place) {
    let (d0, d1, d2, d3) = low
    let (d4, d5, d6, d7) = high
    // Bᵀ's rows pair up as even ± odd parts, at ±1, ±½ (scaled) and ±2.
    let (even1, odd1) = (d2 + d6 - 4.25 * d4, d1 + d5 - 4.25 * d3)
    let (even2, odd2) = (0.25 * d2 - 1.25 * d4 + d6, 0.5 * d1 - 2.5 * d3 + 2 * d5)
    let (even3, odd3) = (4 * d2 - 5 * d4 + d6, 2 * d1 - 2.5 * d3 + 0.5 * d5)
    at.store(d6 - d0 + 5.25 * (d2 - d4), 0)
    at.store(even1 + odd1, 1)
    at.store(even1 - odd1, 2)
    at.store(even2 + odd2, 3)
    at.store(even2 - odd2, 4)
    at.store(even3 + odd3, 5)
    at.store(even3 - odd3, 6)
    at.store(d7 - d1 + 5.25 * (d3 - d5), 7)
  }

  /// `Aᵀ m` of a run's eight products at `at`: its tiles' first and second outputs.
  @inline(__always)
  static func outputTransform(_ at: Winograd.Place) -> (SIMD8<Float>, SIMD8<Float>) {
    let (m1, m2, m3, m4, m5, m6) = (at.load(1), at.load(2), at.load(3), at.load(4), at.load(5), at.load(6))
    let first = at.load(0) + (m1 + m2) + (m3 + m4) + (m5 + m6)
    let second = (m1 - m2) + 2 * (m3 - m4) + 0.5 * (m5 - m6) - at.load(7)
    return (first, second)
  }
}
