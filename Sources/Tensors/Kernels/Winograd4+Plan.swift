import CGatherProduct

extension Winograd4 {
  /// One F(4×4, 3×3) convolution: `n` samples of `channels` planes of `height × width`, padded
  /// by `padding`, into `outputs` planes of `out`. Tile `t` of sample `b` is `b·perSample + t`,
  /// in blocks of 16; the transformed tiles and their products lie in panels
  /// (`Winograd.Panels`), 36 planes of them, and go through `Winograd`'s products.
  struct Plan: WinogradPlanned {
    let n: Int, channels: Int, height: Int, width: Int
    let padding: (Int, Int)
    let outputs: Int
    let out: (Int, Int)

    var tilesDown: Int { (out.0 + 3) / 4 }
    var tilesAcross: Int { (out.1 + 3) / 4 }
    static var planes: Int { 36 }

    /// Turned, the transforms at 0 and ∞, 2 and ½ swap, along both axes (points in the order
    /// 0, 1, −1, 2, ½, ∞).
    static func turnedPlane(_ xi: Int) -> Int {
      let swap = { (k: Int) in (0x03_4215 >> (4 * k)) & 0xf }
      return 6 * swap(xi / 6) + swap(xi % 6)
    }

    /// The padded copy's rows and columns: six rows and columns from the last tile on.
    var paddedSize: (rows: Int, columns: Int) { (4 * tilesDown + 2, 4 * tilesAcross + 2) }

    /// Floats after the padded copy: a run's rows are read 68 floats on from their start (36 in
    /// runs of eight).
    static let room = 80

    /// `y = Σ_c x[c] ⋆ g[·, c]` for the filters whose transform `u` [36, outputs, channels] is.
    /// `turned`: by the turned filters, `u` being the transform of [channels, outputs, 3, 3].
    /// `inBands`: a band of blocks at a time (`convolveInBands`), or each stage over all the
    /// tiles; by default as `goesInBands` says (tests compare the two).
    func convolve(
      _ x: UnsafePointer<Float>, _ u: UnsafePointer<Float>, turned: Bool, into y: UnsafeMutablePointer<Float>,
      inBands: Bool? = nil
    ) {
      let runs = Winograd.BlockRuns(self, width: Winograd.wideTransforms ? 16 : 8)
      withPaddedInput(x, room: Self.room) { padded in
        if inBands ?? goesInBands {
          convolveInBands(padded, u, turned: turned, into: y, runs)
        } else {
          convolveInStages(padded, u, turned: turned, into: y, runs)
        }
      }
    }

    /// Each stage over all the tiles: every input transform, every product, every output
    /// transform.
    private func convolveInStages(
      _ padded: UnsafePointer<Float>, _ u: UnsafePointer<Float>, turned: Bool, into y: UnsafeMutablePointer<Float>,
      _ runs: Winograd.BlockRuns
    ) {
      let (tilePanels, productPanels, blocks) = (tilePanels, productPanels, lanes / 16)
      Scratch.with(tilePanels.count) { v in
        Scratch.with(productPanels.count) { m in
          let (sv, sm, sy, sp) = (Shared(v), Shared(m), Shared(y), Shared(UnsafeMutablePointer(mutating: padded)))
          Kernels.parallel(blocks, work: 36 * channels * lanes) { range in
            inputTransform(sp.pointer, blocks: range, origin: 0, into: sv.pointer, tilePanels, runs, planesOutside: false)
          }
          products(u, v, turned: turned, into: m)
          Kernels.parallel(blocks, work: 36 * outputs * lanes) { range in
            outputTransform(
              sm.pointer, blocks: range, origin: 0, productPanels, into: sy.pointer, runs, planesOutside: false, outputs: nil)
          }
        }
      }
    }

    /// `Bᵀ d B` of every 6×6 input block (four apart in both directions) of every plane of the
    /// padded copy, for the tiles of `blocks`, a run of up to `runs.width` (16 or 8) tiles at
    /// once, into `v`, which holds the blocks from `origin` on in `panels`: block by block and
    /// channel by channel, or, `planesOutside`, channel by channel and block by block.
    func inputTransform(
      _ padded: UnsafePointer<Float>, blocks: Range<Int>, origin: Int, into v: UnsafeMutablePointer<Float>,
      _ panels: Winograd.Panels, _ runs: Winograd.BlockRuns, planesOutside: Bool
    ) {
      let (rows, columns) = paddedSize
      let wide = runs.width == 16
      runs.withRuns { all, first in
        Winograd.Plan.visit(blocks, rows: 0..<channels, planesOutside: planesOutside) { block, c in
          for run in all[first[block]..<first[block + 1]] {
            let d = padded + ((run.sample * channels + c) * rows + 4 * run.ty) * columns + 4 * run.tx
            (wide ? fedsim_winograd4_input_run16 : fedsim_winograd4_input_run8)(
              d, Int64(columns), Int32(run.count), v + panels.offset(0, tile: run.t - 16 * origin, row: c),
              Int64(panels.planeStride))
          }
        }
      }
    }

    /// `Aᵀ m A` of the 36 products of each tile of `blocks` (`m` holding the blocks from `origin`
    /// on in `panels`), its 4×4 outputs (cut at the edges), a run of up to `runs.width` tiles at
    /// once: block by block and output by output, or, `planesOutside`, output by output and block
    /// by block. `rows`: these outputs only (all when nil).
    func outputTransform(
      _ m: UnsafeMutablePointer<Float>, blocks: Range<Int>, origin: Int, _ panels: Winograd.Panels,
      into y: UnsafeMutablePointer<Float>, _ runs: Winograd.BlockRuns, planesOutside: Bool, outputs rows: Range<Int>?
    ) {
      let wide = runs.width == 16
      runs.withRuns { all, first in
        Winograd.Plan.visit(blocks, rows: rows ?? 0..<outputs, planesOutside: planesOutside) { block, o in
          for run in all[first[block]..<first[block + 1]] {
            let (top, left) = (4 * run.ty, 4 * run.tx)
            let at = y + ((run.sample * outputs + o) * out.0 + top) * out.1 + left
            (wide ? fedsim_winograd4_output_run16 : fedsim_winograd4_output_run8)(
              m + panels.offset(0, tile: run.t - 16 * origin, row: o), Int64(panels.planeStride), at, Int64(out.1),
              Int32(Swift.min(4, out.0 - top)), Int32(Swift.min(4 * run.count, out.1 - left)))
          }
        }
      }
    }
  }
}

extension Winograd4.Plan: WinogradBanded {}
