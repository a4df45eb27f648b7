extension Winograd.Plan {
  /// Floats of transformed tiles and their products a band holds at most (512 KiB): with the
  /// filters' transform, within a core's second-level cache (1 MiB here).
  static let bandFloats = 1 << 17

  /// Filters' transform (16·outputs·channels floats) up to which a convolution goes in bands
  /// (1 MiB): every band reads all of it again, plane by plane, and a plane's filters (up to
  /// 64 KiB) stay in the second-level cache beside the band while the next plane's come from
  /// the third. Staged instead, the transformed tiles and products of Inception-v3's 80 → 192
  /// over 2×73×73 (14 and 34 MiB) went to memory and back: on Zen 4, its middle 3×3 layers
  /// (80 → 192, 192 → 64, 64 → 96, 96 → 96 and 448 → 384) took 315–343 ms an evaluation
  /// forward and back with bands up to 256 KiB of filters, 298–321 with bands up to 1 MiB;
  /// ResNet-18's 128 → 128 over 28×28, 27–30 against 24–27.
  static let bandFilterFloats = 1 << 18

  /// Whether the convolution goes a band of blocks at a time. Few channels make the products
  /// short (32 multiply-adds a transformed value in Inception-v3's first layers) while the
  /// transforms, staged over all the tiles (22 MiB each way for 32 channels of 147×147 at batch 2),
  /// go to memory and back: the layer ran at a third of the products' speed.
  var goesInBands: Bool { Self.planes * outputs * channels <= Self.bandFilterFloats }

  /// Blocks of 16 tiles in a band: as many as `bandFloats` holds, in pairs (the pair kernel
  /// reads the filters once for two blocks), one pair at least. (Bands of one block, Inception-v3's
  /// 80 → 192 over 2×73×73 ran its products a block at a time: `twelve_rows` was 5% of a profile.)
  var bandBlocks: Int { Swift.max(2, (Self.bandFloats / (Self.planes * 16 * (channels + outputs))) & ~1) }

  /// A band of blocks at a time, each thread over its own range of blocks (as
  /// `Kernels.range(ofPart:)` cuts them): the band's tiles transformed, multiplied plane by
  /// plane and transformed back while they are in the caches. With fewer blocks than threads
  /// (`splitsOutputs`), each thread takes every block and its own range of the outputs instead:
  /// it transforms every tile, and multiplies and transforms back only its outputs, reading only
  /// their filters.
  func convolveInBands(
    _ padded: UnsafePointer<Float>, _ u: UnsafePointer<Float>, turned: Bool, into y: UnsafeMutablePointer<Float>,
    _ runs: Winograd.BlockRuns
  ) {
    let (blocks, band, byOutputs) = (lanes / 16, bandBlocks, splitsOutputs)
    let tilePanels = Winograd.Panels(planes: Self.planes, rows: channels, blocks: band)
    let productPanels = Winograd.Panels(planes: Self.planes, rows: outputs, blocks: band)
    let panel = Winograd.panelKernel
    if panel { countProducts() }
    // One slot of scratch a thread, taken here: the threads share no buffer and take none.
    let parts = byOutputs ? Kernels.blasThreads : Swift.min(Kernels.blasThreads, blocks)
    let vCount = (tilePanels.count + 15) / 16 * 16
    let slot = vCount + (productPanels.count + 15) / 16 * 16
    Scratch.with(parts * slot) { scratch in
      let (scratch, sy) = (Shared(scratch), Shared(y))
      Kernels.parallel(parts, work: Self.planes * (channels + outputs) * lanes) { mine in
        for part in mine {
          let (v, m) = (scratch.pointer + part * slot, scratch.pointer + part * slot + vCount)
          let range = byOutputs ? 0..<blocks : Kernels.range(ofPart: part, parts: parts, count: blocks)
          let rows = byOutputs ? Kernels.range(ofPart: part, parts: parts, count: outputs) : 0..<outputs
          for first in stride(from: range.lowerBound, to: range.upperBound, by: band) {
            let these = first..<Swift.min(first + band, range.upperBound)
            inputTransform(padded, blocks: these, origin: first, into: v, tilePanels, runs, planesOutside: true)
            zeroSpareLanes(v, tilePanels, origin: first)
            for xi in 0..<Self.planes {
              products(
                u, plane: xi, turned: turned, blocks: 0..<these.count, v, tilePanels, into: m, productPanels,
                panel: panel, outputs: rows)
            }
            outputTransform(
              m, blocks: these, origin: first, productPanels, into: sy.pointer, runs, planesOutside: true, outputs: rows)
          }
        }
      }
    }
  }

  /// Whether the threads share out the outputs instead of the blocks: where there are fewer
  /// blocks than threads, and at least 16 outputs a thread. DenseNet-121's 128 → 32 over 7×7, one
  /// block of 16 tiles, took as long at two threads as at one; shared out, its input gradients
  /// (32 → 128) 1.6 → 1.0 ms an evaluation, its forward passes (each thread transforming all 128
  /// channels) 1.6 → 1.5.
  var splitsOutputs: Bool {
    let threads = Kernels.blasThreads
    return threads > 1 && lanes / 16 < threads && outputs >= 16 * threads
  }
}
