extension Winograd {
  /// A run of up to eight consecutive tiles of one tile row: `count` tiles of sample `sample`
  /// from tile (`ty`, `tx`) on, the first being tile `t` of the whole batch. The transforms
  /// handle a run at once, its tiles in the lanes.
  struct Run {
    let sample: Int, ty: Int, tx: Int, count: Int, t: Int
  }

  /// A plan's runs, in order, by block of 16 tiles. Runs are cut where a tile row ends and
  /// where the tile index is a multiple of `width` (eight, or sixteen for the AVX-512
  /// transforms), so none crosses from one block into the next and each lies in one row of a
  /// panel (`Panels`).
  struct BlockRuns {
    let runs: [Run]
    /// Where each block's runs start; `firstRun[blocks]` is the count.
    let firstRun: [Int]
    /// Tiles a run holds at most: 8, or 16 (`Winograd.wideTransforms`).
    let width: Int

    init(_ plan: some WinogradTiling, width: Int = 8) {
      precondition(width == 8 || width == 16, "runs of 8 or 16 tiles, not \(width)")
      var runs: [Run] = []
      runs.reserveCapacity(plan.tiles / width + 2 * plan.n * plan.tilesDown)
      for b in 0..<plan.n {
        for ty in 0..<plan.tilesDown {
          let first = b * plan.perSample + ty * plan.tilesAcross
          var tx = 0
          while tx < plan.tilesAcross {
            let t = first + tx
            let count = Swift.min(width - (t & (width - 1)), plan.tilesAcross - tx)
            runs.append(Run(sample: b, ty: ty, tx: tx, count: count, t: t))
            tx += count
          }
        }
      }
      let blocks = plan.lanes / 16
      var firstRun = [Int](repeating: runs.count, count: blocks + 1)
      for (i, run) in runs.enumerated().reversed() { firstRun[run.t >> 4] = i }
      (self.runs, self.firstRun, self.width) = (runs, firstRun, width)
    }

    /// Block `block`'s runs.
    @inline(__always)
    func of(_ block: Int) -> ArraySlice<Run> { runs[firstRun[block]..<firstRun[block + 1]] }

    /// `body` with the runs and where each block's start, read in place: slices of the arrays,
    /// retained and released at every block and row, were 4% of an Inception-v3 profile where
    /// the AVX-512 transforms took them.
    @inline(__always)
    func withRuns<R>(_ body: (UnsafeBufferPointer<Run>, UnsafeBufferPointer<Int>) -> R) -> R {
      runs.withUnsafeBufferPointer { all in firstRun.withUnsafeBufferPointer { first in body(all, first) } }
    }
  }
}
