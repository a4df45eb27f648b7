import CGatherProduct

extension Winograd.Plan {
  /// `inputTransform` sixteen tiles a run in AVX-512 (`fedsim_winograd_input_run16`), the same
  /// values, over `runs` of up to sixteen tiles.
  func wideInputTransform(
    _ padded: UnsafePointer<Float>, blocks: Range<Int>, origin: Int, into v: UnsafeMutablePointer<Float>,
    _ panels: Winograd.Panels, _ runs: Winograd.BlockRuns, planesOutside: Bool
  ) {
    let (rows, columns) = paddedSize
    runs.withRuns { all, first in
      Self.visit(blocks, rows: 0..<channels, planesOutside: planesOutside) { block, c in
        for run in all[first[block]..<first[block + 1]] {
          let d = padded + ((run.sample * channels + c) * rows + 2 * run.ty) * columns + 2 * run.tx
          let at = v + panels.offset(0, tile: run.t - 16 * origin, row: c)
          fedsim_winograd_input_run16(
            d, Int64(columns), Int32(columns - 2 * run.tx), Int32(run.count), at, Int64(panels.planeStride))
        }
      }
    }
  }

  /// `outputTransform` sixteen tiles a run in AVX-512 (`fedsim_winograd_output_run16`), the
  /// same values, over `runs` of up to sixteen tiles, for the outputs of `rows`.
  func wideOutputTransform(
    _ m: UnsafeMutablePointer<Float>, blocks: Range<Int>, origin: Int, _ panels: Winograd.Panels,
    into y: UnsafeMutablePointer<Float>, _ runs: Winograd.BlockRuns, planesOutside: Bool, outputs rows: Range<Int>
  ) {
    runs.withRuns { all, first in
      Self.visit(blocks, rows: rows, planesOutside: planesOutside) { block, o in
        for run in all[first[block]..<first[block + 1]] {
          let plane = y + (run.sample * outputs + o) * out.0 * out.1
          let (c, columns) = (2 * run.tx, Swift.min(2 * run.count, out.1 - 2 * run.tx))
          let row0 = plane + 2 * run.ty * out.1 + c
          fedsim_winograd_output_run16(
            m + panels.offset(0, tile: run.t - 16 * origin, row: o), Int64(panels.planeStride), Int32(run.count),
            row0, 2 * run.ty + 1 < out.0 ? row0 + out.1 : nil, Int32(columns))
        }
      }
    }
  }
}
