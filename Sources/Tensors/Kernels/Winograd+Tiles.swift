extension Winograd {
  /// One F(2×2, 3×3) convolution: `n` samples of `channels` planes of `height × width`, padded
  /// by `padding`, into `outputs` planes of `out`. Tile `t` of sample `b` is `b·perSample + t`;
  /// the tiles go in blocks of 16, `lanes` being their count rounded up to whole blocks. The
  /// transformed tiles and their products lie in panels (`Winograd.Panels`).
  struct Plan: WinogradPlanned {
    let n: Int, channels: Int, height: Int, width: Int
    let padding: (Int, Int)
    let outputs: Int
    let out: (Int, Int)

    var tilesDown: Int { (out.0 + 1) / 2 }
    var tilesAcross: Int { (out.1 + 1) / 2 }
    static var planes: Int { 16 }

    /// Turned, the first and last rows and columns of the 4×4 block swap.
    static func turnedPlane(_ xi: Int) -> Int {
      let swap = { (k: Int) in k == 0 ? 3 : k == 3 ? 0 : k }
      return 4 * swap(xi / 4) + swap(xi % 4)
    }

    /// `y = Σ_c x[c] ⋆ g[·, c]` for the filters whose transform `u` [16, outputs, channels] is.
    /// `turned`: by the turned filters, `u` being the transform of [channels, outputs, 3, 3].
    /// `inBands`: a band of blocks at a time (`convolveInBands`), or each stage over all the
    /// tiles; by default as `goesInBands` says (tests compare the two).
    func convolve(
      _ x: UnsafePointer<Float>, _ u: UnsafePointer<Float>, turned: Bool, into y: UnsafeMutablePointer<Float>,
      inBands: Bool? = nil
    ) {
      let runs = BlockRuns(self, width: Winograd.wideTransforms ? 16 : 8)
      if inBands ?? goesInBands {
        withPaddedInput(x) { padded in convolveInBands(padded, u, turned: turned, into: y, runs) }
      } else {
        convolveInStages(x, u, turned: turned, into: y, runs)
      }
    }

    /// Each stage over all the tiles: every transform (the padded copy then let go), then
    /// every product (on all threads), then every output transform.
    private func convolveInStages(
      _ x: UnsafePointer<Float>, _ u: UnsafePointer<Float>, turned: Bool, into y: UnsafeMutablePointer<Float>,
      _ runs: BlockRuns
    ) {
      let (tilePanels, productPanels, blocks) = (tilePanels, productPanels, lanes / 16)
      // Kept between calls (64-byte aligned: the threads write panel rows of their own).
      Scratch.with(tilePanels.count) { v in
        Scratch.with(productPanels.count) { m in
          let (sv, sm, sy) = (Shared(v), Shared(m), Shared(y))
          withPaddedInput(x) { padded in
            Kernels.parallel(blocks, work: 16 * channels * lanes) { range in
              inputTransform(padded, blocks: range, origin: 0, into: sv.pointer, tilePanels, runs)
            }
          }
          products(u, v, turned: turned, into: m)
          Kernels.parallel(blocks, work: 16 * outputs * lanes) { range in
            outputTransform(sm.pointer, blocks: range, origin: 0, productPanels, into: sy.pointer, runs)
          }
        }
      }
    }

    /// The padded copy's rows and columns: room for a run of eight from the last tile on (its
    /// columns are read sixteen at a time).
    var paddedSize: (rows: Int, columns: Int) { (2 * tilesDown + 2, 2 * tilesAcross + 16) }

    /// `Bᵀ d B` of every 4×4 input block `d` (two apart in both directions) of every plane of
    /// the padded copy, for the tiles of `blocks`, a run of up to eight tiles at once, into `v`,
    /// which holds the blocks from `origin` on in `panels`. Block by block and channel by channel
    /// (as `outputTransform` goes), so that `v`'s planes are written in order; `planesOutside`:
    /// channel by channel and block by block, so that each input plane is read in order (a
    /// band's `v` is in the caches, and a block's 32 channels, read together, were 128 streams
    /// the prefetchers did not follow).
    func inputTransform(
      _ padded: UnsafePointer<Float>, blocks: Range<Int>, origin: Int, into v: UnsafeMutablePointer<Float>,
      _ panels: Panels, _ runs: BlockRuns, planesOutside: Bool = false
    ) {
      let (rows, columns) = paddedSize
      if runs.width == 16 {
        return wideInputTransform(padded, blocks: blocks, origin: origin, into: v, panels, runs, planesOutside: planesOutside)
      }
      @inline(__always) func transform(_ block: Int, _ c: Int) {
        for run in runs.of(block) {
          let d = padded + ((run.sample * channels + c) * rows + 2 * run.ty) * columns + 2 * run.tx
          let row = { (r: Int) in Winograd.evenOddColumns(d + r * columns) }
          // All eight lanes, past a short run too: what lands past it is the next run's,
          // or the next row's of this panel, or the gap after the panel, and is written
          // over later by this same thread (runs and rows go in order), or never read.
          let at = Place(base: v + panels.offset(0, tile: run.t - 16 * origin, row: c), spread: panels.planeStride)
          Winograd.inputTileTransform((row(0), row(1), row(2), row(3)), at)
        }
      }
      Self.visit(blocks, rows: 0..<channels, planesOutside: planesOutside, transform)
    }

    /// `Aᵀ m A` of the 16 products of each tile of `blocks` (`m` holding the blocks from
    /// `origin` on in `panels`), the 2×2 output block (cut at an odd edge), a run of up to eight
    /// tiles at once: block by block and, within a block, output by output, so that each of the
    /// 16 planes is read in order (plane by plane, the reads would jump a panel every 16 tiles,
    /// which the prefetchers do not follow); `planesOutside`: output by output and block by
    /// block, so that each output plane is written in order (see `inputTransform`). `rows`: these
    /// outputs only (all by default).
    func outputTransform(
      _ m: UnsafeMutablePointer<Float>, blocks: Range<Int>, origin: Int, _ panels: Panels,
      into y: UnsafeMutablePointer<Float>, _ runs: BlockRuns, planesOutside: Bool = false, outputs rows: Range<Int>? = nil
    ) {
      let rows = rows ?? 0..<outputs
      if runs.width == 16 {
        return wideOutputTransform(
          m, blocks: blocks, origin: origin, panels, into: y, runs, planesOutside: planesOutside, outputs: rows)
      }
      @inline(__always) func transform(_ block: Int, _ o: Int) {
        for run in runs.of(block) {
          let at = Place(base: m + panels.offset(0, tile: run.t - 16 * origin, row: o), spread: panels.planeStride)
          let m0 = Quad(at.load(0), at.load(1), at.load(2), at.load(3))
          let m1 = Quad(at.load(4), at.load(5), at.load(6), at.load(7))
          let m2 = Quad(at.load(8), at.load(9), at.load(10), at.load(11))
          let m3 = Quad(at.load(12), at.load(13), at.load(14), at.load(15))
          // Aᵀ = [1 1 1 0; 0 1 −1 −1], down the columns, then along the rows.
          let top = Winograd.add(Winograd.add(m0, m1), m2)
          let bottom = Winograd.sub(Winograd.sub(m1, m2), m3)
          let plane = y + (run.sample * outputs + o) * out.0 * out.1
          let (c, columns) = (2 * run.tx, Swift.min(2 * run.count, out.1 - 2 * run.tx))
          Winograd.interleave(top.0 + top.1 + top.2, top.1 - top.2 - top.3, into: plane + 2 * run.ty * out.1 + c, columns)
          if 2 * run.ty + 1 < out.0 {
            Winograd.interleave(
              bottom.0 + bottom.1 + bottom.2, bottom.1 - bottom.2 - bottom.3, into: plane + (2 * run.ty + 1) * out.1 + c, columns)
          }
        }
      }
      Self.visit(blocks, rows: rows, planesOutside: planesOutside, transform)
    }

    /// `body(block, row)` for every block of `blocks` and row (channel or output) of `rows`:
    /// block by block, or, `planesOutside`, row by row.
    @inline(__always)
    static func visit(_ blocks: Range<Int>, rows: Range<Int>, planesOutside: Bool, _ body: (Int, Int) -> Void) {
      if planesOutside {
        for row in rows { for block in blocks { body(block, row) } }
      } else {
        for block in blocks { for row in rows { body(block, row) } }
      }
    }
  }
}
