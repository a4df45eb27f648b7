/// A Winograd convolution that can go a band of blocks at a time (`convolveInBands`): its
/// transforms take a range of blocks held from `origin` on, and, `planesOutside`, go row by row
/// (channel or output) and block by block; the output transform, for some outputs only.
protocol WinogradBanded: WinogradTiling {
  func inputTransform(
    _ padded: UnsafePointer<Float>, blocks: Range<Int>, origin: Int, into v: UnsafeMutablePointer<Float>,
    _ panels: Winograd.Panels, _ runs: Winograd.BlockRuns, planesOutside: Bool)
  func outputTransform(
    _ m: UnsafeMutablePointer<Float>, blocks: Range<Int>, origin: Int, _ panels: Winograd.Panels,
    into y: UnsafeMutablePointer<Float>, _ runs: Winograd.BlockRuns, planesOutside: Bool, outputs rows: Range<Int>?)
}

extension Winograd {
  /// Floats of transformed tiles and their products a band holds at most (512 KiB): with the
  /// filters' transform, within a core's second-level cache (1 MiB here).
  static let bandFloats = 1 << 17

  /// Filters' transform (planes·outputs·channels floats) up to which a convolution goes in bands
  /// (1 MiB): every band reads all of it again, plane by plane, and a plane's filters (up to
  /// 64 KiB) stay in the second-level cache beside the band while the next plane's come from
  /// the third. Staged instead, the transformed tiles and products of Inception-v3's 80 → 192
  /// over 2×73×73 (14 and 34 MiB) went to memory and back: on Zen 4, its middle 3×3 layers
  /// (80 → 192, 192 → 64, 64 → 96, 96 → 96 and 448 → 384) took 315–343 ms an evaluation
  /// forward and back with bands up to 256 KiB of filters, 298–321 with bands up to 1 MiB;
  /// ResNet-18's 128 → 128 over 28×28, 27–30 against 24–27.
  static let bandFilterFloats = 1 << 18
}

extension Winograd.Plan: WinogradBanded {}

extension WinogradBanded {
  /// Whether the convolution goes a band of blocks at a time. Few channels make the products
  /// short (32 multiply-adds a transformed value in Inception-v3's first layers) while the
  /// transforms, staged over all the tiles (22 MiB each way for 32 channels of 147×147 at batch 2),
  /// go to memory and back: the layer ran at a third of the products' speed.
  var goesInBands: Bool { Self.planes * outputs * channels <= Winograd.bandFilterFloats }

  /// Blocks of 16 tiles in a band: as many as `bandFloats` holds, in pairs (the pair kernel
  /// reads the filters once for two blocks), one pair at least. (Bands of one block, Inception-v3's
  /// 80 → 192 over 2×73×73 ran its products a block at a time: `twelve_rows` was 5% of a profile.)
  var bandBlocks: Int { Swift.max(2, (Winograd.bandFloats / (Self.planes * 16 * (channels + outputs))) & ~1) }

  /// A band of blocks at a time, each thread over its own blocks (`share`): the band's tiles
  /// transformed, multiplied plane by plane and transformed back while they are in the caches.
  func convolveInBands(
    _ padded: UnsafePointer<Float>, _ u: UnsafePointer<Float>, turned: Bool, into y: UnsafeMutablePointer<Float>,
    _ runs: Winograd.BlockRuns
  ) {
    let band = bandBlocks
    let tilePanels = Winograd.Panels(planes: Self.planes, rows: channels, blocks: band)
    let productPanels = Winograd.Panels(planes: Self.planes, rows: outputs, blocks: band)
    let panel = Winograd.panelKernel
    if panel { countProducts() }
    // One slot of scratch a thread, taken here: the threads share no buffer and take none.
    let parts = sharesOutputs ? Kernels.blasThreads : Swift.min(Kernels.blasThreads, blocks)
    let vCount = (tilePanels.count + 15) / 16 * 16
    let slot = vCount + (productPanels.count + 15) / 16 * 16
    Scratch.with(parts * slot) { scratch in
      let (scratch, sy) = (Shared(scratch), Shared(y))
      // The band `these` of blocks, its `rows` of outputs, by the scratch at `v` and `m`.
      func convolve(_ these: Range<Int>, rows: Range<Int>, _ v: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>) {
        inputTransform(padded, blocks: these, origin: these.lowerBound, into: v, tilePanels, runs, planesOutside: true)
        zeroSpareLanes(v, tilePanels, origin: these.lowerBound)
        for xi in 0..<Self.planes {
          products(
            u, plane: xi, turned: turned, blocks: 0..<these.count, v, tilePanels, into: m, productPanels,
            panel: panel, outputs: rows)
        }
        outputTransform(
          m, blocks: these, origin: these.lowerBound, productPanels, into: sy.pointer, runs, planesOutside: true,
          outputs: rows)
      }
      Kernels.parallel(parts, work: Self.planes * (channels + outputs) * lanes) { mine in
        for part in mine {
          let (v, m) = (scratch.pointer + part * slot, scratch.pointer + part * slot + vCount)
          for (range, rows) in share(part, of: parts) {
            for first in stride(from: range.lowerBound, to: range.upperBound, by: band) {
              convolve(first..<Swift.min(first + band, range.upperBound), rows: rows, v, m)
            }
          }
        }
      }
    }
  }

  /// The blocks part `part` of `parts` takes, each run with the outputs it takes of them. Where
  /// the threads share out outputs (`sharesOutputs`): as many whole blocks as every part can
  /// take, then its range of the outputs of the blocks left over; else its range of the blocks
  /// (as `Kernels.range(ofPart:)` cuts them), all their outputs. DenseNet-121's 3×3 layers over
  /// 28×28 are 13 blocks: at two threads one took 7 and the other 6, where now each takes 6 and
  /// half of the 13th's outputs (alone, over 40 such layers in turn, the forward pass 124–133 →
  /// 118–121 µs a layer, the input gradient 96–102 → 91–95). Over 7×7 they are one block, which
  /// both share.
  func share(_ part: Int, of parts: Int) -> [(blocks: Range<Int>, outputs: Range<Int>)] {
    guard sharesOutputs else { return [(Kernels.range(ofPart: part, parts: parts, count: blocks), 0..<outputs)] }
    let whole = blocks - blocks % parts
    return [
      (Kernels.range(ofPart: part, parts: parts, count: whole), 0..<outputs),
      (whole..<blocks, Kernels.range(ofPart: part, parts: parts, count: outputs)),
    ]
  }

  /// Whether the threads share out the outputs of the blocks left over once each has as many
  /// whole blocks as the others (`share`): where blocks are left over, and at least 16 outputs a
  /// thread. Where there are fewer blocks than threads, each thread then transforms every tile
  /// and multiplies and transforms back only its outputs, reading only their filters.
  /// DenseNet-121's 128 → 32 over 7×7, one block of 16 tiles, took as long at two threads as at
  /// one; shared out, its input gradients (32 → 128) 1.6 → 1.0 ms an evaluation, its forward
  /// passes (each thread transforming all 128 channels) 1.6 → 1.5.
  var sharesOutputs: Bool {
    let threads = Kernels.blasThreads
    return threads > 1 && blocks % threads != 0 && outputs >= 16 * threads
  }

  private var blocks: Int { lanes / 16 }
}
