extension Winograd {
  /// A run of up to eight consecutive tiles of one tile row: `count` tiles of sample `sample`
  /// from tile (`ty`, `tx`) on, the first being tile `t` of the whole batch. The transforms
  /// handle a run at once, its tiles in the lanes.
  struct Run {
    let sample: Int, ty: Int, tx: Int, count: Int, t: Int
  }

  /// A plan's runs, in order, by block of 16 tiles. Runs are cut where a tile row ends and
  /// where the tile index is a multiple of eight, so none crosses from one block into the next
  /// and each lies in one row of a panel (`Panels`).
  struct BlockRuns {
    let runs: [Run]
    /// Where each block's runs start; `firstRun[blocks]` is the count.
    let firstRun: [Int]

    init(_ plan: some WinogradTiling) {
      var runs: [Run] = []
      runs.reserveCapacity(plan.tiles / 8 + 2 * plan.n * plan.tilesDown)
      for b in 0..<plan.n {
        for ty in 0..<plan.tilesDown {
          let first = b * plan.perSample + ty * plan.tilesAcross
          var tx = 0
          while tx < plan.tilesAcross {
            let t = first + tx
            let count = Swift.min(8 - (t & 7), plan.tilesAcross - tx)
            runs.append(Run(sample: b, ty: ty, tx: tx, count: count, t: t))
            tx += count
          }
        }
      }
      let blocks = plan.lanes / 16
      var firstRun = [Int](repeating: runs.count, count: blocks + 1)
      for (i, run) in runs.enumerated().reversed() { firstRun[run.t >> 4] = i }
      self.runs = runs
      self.firstRun = firstRun
    }

    /// Block `block`'s runs.
    @inline(__always)
    func of(_ block: Int) -> ArraySlice<Run> { runs[firstRun[block]..<firstRun[block + 1]] }
  }
}
