@testable import Tensors
import Testing

/// The Winograd convolution's layout: runs of tiles, panels, and the scratch they live in.
@Suite("Winograd layout")
struct WinogradLayoutTests {
  @Test("runs cover every tile once, in order, none crossing a block, none longer than eight",
        arguments: [(1, 7, 7), (2, 74, 74), (3, 5, 9), (1, 1, 33), (2, 37, 37)])
  func runs(n: Int, down: Int, across: Int) {
    let plan = Winograd.Plan(
      n: n, channels: 16, height: 2 * down, width: 2 * across, padding: (1, 1), outputs: 16, out: (2 * down, 2 * across))
    let blocks = Winograd.BlockRuns(plan)
    var next = 0
    for block in 0..<plan.lanes / 16 {
      for run in blocks.of(block) {
        #expect(run.t == next && run.count >= 1 && run.count <= 8)
        #expect(run.t >> 4 == block && (run.t + run.count - 1) >> 4 == block, "run at \(run.t) crosses block \(block)")
        #expect(run.t == run.sample * plan.perSample + run.ty * plan.tilesAcross + run.tx)
        #expect(run.tx + run.count <= plan.tilesAcross)
        next += run.count
      }
    }
    #expect(next == plan.tiles)
  }

  @Test("panels and planes lie an odd number of cache lines apart, rows within a panel in order")
  func panels() {
    for rows in [5, 7, 32, 64, 192] {
      for blocks in [1, 4, 685] {
        let p = Winograd.Panels(planes: 16, rows: rows, blocks: blocks)
        #expect(p.blockStride >= 16 * rows && (p.blockStride / 16) % 2 == 1)
        #expect(p.planeStride >= blocks * p.blockStride && (p.planeStride / 16) % 2 == 1)
        #expect(p.offset(3, tile: 16 * (blocks - 1) + 5, row: rows - 1) == p.panel(3, block: blocks - 1) + 16 * (rows - 1) + 5)
        #expect(p.offset(15, tile: 16 * blocks - 1, row: rows - 1) + 8 < p.count)  // a whole load from the last tile
      }
    }
  }

  @Test("scratch buffers are aligned, and one in use is never handed out again")
  func scratch() {
    Scratch.with(1000) { a in
      #expect(Int(bitPattern: a) % 64 == 0)
      Scratch.with(1000) { b in
        #expect(a != b)
        a.initialize(repeating: 1, count: 1000)
        b.initialize(repeating: 2, count: 1000)
        #expect(a[999] == 1 && b[0] == 2)
      }
    }
    Scratch.with(1 << 20) { big in #expect(Int(bitPattern: big) % (1 << 21) == 0) }
  }
}
