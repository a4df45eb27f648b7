import CGatherProduct

extension Winograd {
  /// The tiles of a filter gradient by F(2×2, 3×3) (`Winograd.conv2dFilterGradient`): the
  /// forward pass's 2×2 output tiles, tile `t` of sample `b` being `b·perSample + t`. The
  /// input's transformed tiles lie as plain matrices [16, c, stride], a channel's tiles
  /// contiguous (read where they lie by the panel kernel); the output gradient's in panels
  /// [16, blocks, tiles, 16], sixteen outputs in the lanes of each tile (the kernel's right-hand
  /// side), so each plane's sum over the tiles is one panel product a block of 16 outputs.
  struct FilterGradientGrid {
    let s: ConvShape
    let tilesDown: Int, tilesAcross: Int

    init(_ s: ConvShape) {
      self.s = s
      (tilesDown, tilesAcross) = ((s.oh + 1) / 2, (s.ow + 1) / 2)
    }

    var perSample: Int { tilesDown * tilesAcross }
    /// Blocks of 16 outputs, and the outputs rounded up to whole blocks.
    var outputBlocks: Int { (s.o + 15) / 16 }
    var paddedOutputs: Int { 16 * outputBlocks }
    var tiles: Int { s.n * perSample }
    /// Floats from one row to the next: room for eight lanes past the last tile, an odd number
    /// of cache lines (rows a power of two apart would share cache sets).
    var stride: Int { (((tiles + 8 + 15) / 16) | 1) * 16 }

    /// Calls `body(sample, ty, tx, t)` for each run of up to eight tiles of a tile row, in
    /// order, from tile `t` (`tx` of row `ty`) on.
    @inline(__always)
    private func forEachRun(_ body: (Int, Int, Int, Int) -> Void) {
      for b in 0..<s.n {
        for ty in 0..<tilesDown {
          var tx = 0
          while tx < tilesAcross {
            let count = Swift.min(8, tilesAcross - tx)
            body(b, ty, tx, b * perSample + ty * tilesAcross + tx)
            tx += count
          }
        }
      }
    }

    /// `Bᵀ d B` of every 4×4 input block (two apart) of every channel, into `v` [16, c, stride],
    /// from a zero-padded copy of the input (as the forward pass transforms it). Channels go to
    /// the threads whole, and each channel's tiles are written in order: the eight lanes a short
    /// run stores past its end are the next run's, written over later by the same thread, or
    /// past the last tile.
    func inputTransform(_ x: UnsafePointer<Float>, into v: UnsafeMutablePointer<Float>) {
      let plan = Plan.forward(s)  // the same tiles, padded the same way
      let (rows, columns) = plan.paddedSize
      let (c, stride) = (s.c, stride)
      plan.withPaddedInput(x) { padded in
        let v = Shared(v)
        Kernels.parallel(c, work: 16 * c * tiles) { channels in
          for channel in channels {
            forEachRun { b, ty, tx, t in
              let d = padded + ((b * c + channel) * rows + 2 * ty) * columns + 2 * tx
              let row = { (r: Int) in Winograd.evenOddColumns(d + r * columns) }
              let at = Place(base: v.pointer + channel * stride + t, spread: c * stride)
              Winograd.inputTileTransform((row(0), row(1), row(2), row(3)), at)
            }
          }
        }
      }
    }

    /// `A g Aᵀ` of every 2×2 output-gradient tile (zero past the edges) of every output plane,
    /// into `p` [16, blocks, tiles, 16], eight outputs at a time in the lanes, so that a tile's
    /// eight values of a plane are one store; the lanes of outputs past the last are zeros.
    /// Blocks of outputs go to the threads whole (two threads on one block would share its cache
    /// lines).
    func gradientTransform(_ gy: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>) {
      let (rows, columns) = (2 * tilesDown, 2 * tilesAcross)
      let (o, tiles, plane) = (s.o, tiles, rows * columns)
      Scratch.with(s.n * o * plane) { padded in
        Winograd.pad(
          UnsafeMutablePointer(mutating: gy), planes: s.n * o, height: s.oh, width: s.ow, padding: (0, 0),
          into: padded, rows: rows, columns: columns)
        let (p, padded) = (Shared(p), Shared(padded))
        let (blocks, planeStride) = (outputBlocks, outputBlocks * tiles * 16)
        Kernels.parallel(blocks, work: 16 * o * tiles) { range in
          for block in range {
            for half in 0..<2 {
              let first = 16 * block + 8 * half
              let lanes = Swift.max(0, Swift.min(8, o - first))
              for b in 0..<s.n {
                let base = padded.pointer + (b * o + first) * plane
                for ty in 0..<tilesDown {
                  for tx in 0..<tilesAcross {
                    let t = b * perSample + ty * tilesAcross + tx
                    let at = base + 2 * ty * columns + 2 * tx
                    let g = { (offset: Int) in Self.gather(at + offset, plane, lanes) }
                    let (top, bottom) = ((g(0), g(1)), (g(columns), g(columns + 1)))
                    let out = p.pointer + (block * tiles + t) * 16 + 8 * half
                    let put = { (xi: Int, value: SIMD8<Float>) in
                      UnsafeMutableRawPointer(out + xi * planeStride).storeBytes(of: value, as: SIMD8<Float>.self)
                    }
                    // A = [1 0; 1 1; 1 −1; 0 −1], down the columns, then along the rows.
                    Self.expand(top.0, top.1, put, 0)
                    Self.expand(top.0 + bottom.0, top.1 + bottom.1, put, 4)
                    Self.expand(top.0 - bottom.0, top.1 - bottom.1, put, 8)
                    Self.expand(-bottom.0, -bottom.1, put, 12)
                  }
                }
              }
            }
          }
        }
      }
    }

    /// `at[l·plane]` for the first `lanes` lanes, zeros in the others: one element of eight
    /// consecutive planes.
    @inline(__always)
    private static func gather(_ at: UnsafeMutablePointer<Float>, _ plane: Int, _ lanes: Int) -> SIMD8<Float> {
      guard lanes == 8 else {
        var v = SIMD8<Float>()
        for l in 0..<lanes { v[l] = at[l * plane] }
        return v
      }
      return SIMD8(at[0], at[plane], at[2 * plane], at[3 * plane], at[4 * plane], at[5 * plane], at[6 * plane], at[7 * plane])
    }

    /// `dU[ξ]` [c × paddedOutputs] `= V[ξ] · P[ξ]`, summed over the tiles: a panel product per
    /// plane and block of 16 outputs, through the AVX2 kernel (the transformed input read where
    /// it lies), or BLAS where the CPU lacks it (`panel`: by default as the CPU allows; tests
    /// compare the two).
    func products(_ v: UnsafePointer<Float>, _ p: UnsafePointer<Float>, into du: UnsafeMutablePointer<Float>, panel: Bool? = nil) {
      let (c, blocks, tiles, stride, padded) = (s.c, outputBlocks, tiles, stride, paddedOutputs)
      let panel = panel ?? Winograd.panelKernel
      // (`Kernels.gemm` counts its own.)
      if panel { Kernels.gemmFLOPs.add(2 &* 16 &* c &* s.o &* tiles, ordering: .relaxed) }
      let (du, pairs) = (Shared(du), (blocks + 1) / 2)
      // Two blocks of outputs at a time where there are two: the pair kernel reads V[ξ] once
      // for both.
      Kernels.parallel(16 * pairs, work: 16 * c * padded * tiles) { items in
        for item in items {
          let (xi, pair) = item.quotientAndRemainder(dividingBy: pairs)
          var block = 2 * pair
          while block < Swift.min(2 * pair + 2, blocks) {
            let (a, b) = (v + xi * c * stride, p + (xi * blocks + block) * tiles * 16)
            let out = du.pointer + xi * c * padded + 16 * block
            if panel, block + 1 < blocks {
              fedsim_panel_product16_pair(
                a, Int64(stride), 1, Int32(c), b, b + tiles * 16, 16, Int32(tiles), out, out + 16, Int32(padded))
              block += 2
              continue
            }
            if panel {
              fedsim_panel_product16(a, Int64(stride), 1, Int32(c), b, 16, Int32(tiles), out, Int32(padded), 0)
            } else {
              Kernels.gemm(transposeA: false, transposeB: false, m: c, n: 16, k: tiles, a, lda: stride, b, ldb: 16, out, ldc: padded)
            }
            block += 1
          }
        }
      }
    }

    /// `r Aᵀ` of one row `r` = (first, second) of `A g`, to planes `first ..< first + 4`.
    @inline(__always)
    private static func expand(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ put: (Int, SIMD8<Float>) -> Void, _ first: Int) {
      put(first, a)
      put(first + 1, a + b)
      put(first + 2, a - b)
      put(first + 3, -b)
    }
  }
}
