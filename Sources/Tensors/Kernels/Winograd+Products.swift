import CGatherProduct

extension WinogradTiling {
  /// The products `m[ξ] = u[ξ] · v[ξ]` of every plane, [outputs × channels]·[channels × lanes],
  /// a block of 16 tiles at a time: a block's panel of `v` (16 lanes of every channel,
  /// contiguous) stays in the first caches while the filters are read where they lie, and its
  /// panel of `m` is written whole, once. BLAS would pack the filters again for every product,
  /// which costs as much as the product itself when the tiles are few (49 in ResNet-18's 14×14
  /// layers), and zeroes its output first, which costs as much when the channels are few (32 in
  /// Inception-v3's first layers, 10,952 tiles). Blocks go to FedSim's threads.
  ///
  /// `turned`: `u` is the transform of filters [channels, outputs, …] and the product runs by
  /// the filters turned 180° with their channels swapped: plane `turnedPlane(ξ)` of `u`, read
  /// transposed. `panel`: through the AVX2 kernel, or BLAS a block at a time (by default as the
  /// CPU allows; tests compare the two).
  func products(
    _ u: UnsafePointer<Float>, _ v: UnsafeMutablePointer<Float>, turned: Bool, into m: UnsafeMutablePointer<Float>,
    panel: Bool? = nil
  ) {
    zeroSpareLanes(v, tilePanels, origin: 0)
    let (planes, blocks) = (Self.planes, lanes / 16)
    let (tilePanels, productPanels) = (tilePanels, productPanels)
    let panel = panel ?? Winograd.panelKernel
    // (`Kernels.gemm` counts its own.)
    if panel { countProducts() }
    let (v, m, pairs) = (Shared(v), Shared(m), (blocks + 1) / 2)
    Kernels.parallel(planes * pairs, work: planes * outputs * lanes) { items in
      for item in items {
        let (xi, pair) = item.quotientAndRemainder(dividingBy: pairs)
        products(
          u, plane: xi, turned: turned, blocks: 2 * pair..<Swift.min(2 * pair + 2, blocks), v.pointer, tilePanels,
          into: m.pointer, productPanels, panel: panel)
      }
    }
  }

  /// Plane `ξ`'s products for `blocks` (of `tilePanels`, into `productPanels`), two blocks at a
  /// time: the pair kernel reads the filters once for both. `rows`: these outputs only (all by
  /// default).
  @inline(__always)
  func products(
    _ u: UnsafePointer<Float>, plane xi: Int, turned: Bool, blocks: Range<Int>, _ v: UnsafePointer<Float>,
    _ tilePanels: Winograd.Panels, into m: UnsafeMutablePointer<Float>, _ productPanels: Winograd.Panels, panel: Bool,
    outputs rows: Range<Int>? = nil
  ) {
    let rows = rows ?? 0..<outputs
    let (rowStride, stepStride) = turned ? (1, outputs) : (channels, 1)
    let a = filters(u, plane: xi, turned: turned) + rows.lowerBound * rowStride
    var block = blocks.lowerBound
    while block < blocks.upperBound {
      let b = v + tilePanels.panel(xi, block: block)
      let c = m + productPanels.panel(xi, block: block) + 16 * rows.lowerBound
      if panel, block + 1 < blocks.upperBound {
        fedsim_panel_product16_pair(
          a, Int64(rowStride), Int64(stepStride), Int32(rows.count), b, b + tilePanels.blockStride, 16,
          Int32(channels), c, c + productPanels.blockStride, 16)
        block += 2
      } else {
        product(a, turned: turned, rows: rows.count, b, into: c, panel: panel)
        block += 1
      }
    }
  }

  /// Where plane `ξ`'s filter matrix starts in `u` (plane `turnedPlane(ξ)` when turned).
  @inline(__always)
  func filters(_ u: UnsafePointer<Float>, plane xi: Int, turned: Bool) -> UnsafePointer<Float> {
    u + (turned ? Self.turnedPlane(xi) : xi) * outputs * channels
  }

  /// The FLOPs of a convolution's products through the panel kernel, counted with BLAS's.
  func countProducts() {
    Kernels.gemmFLOPs.add(2 &* Self.planes &* outputs &* channels &* tiles, ordering: .relaxed)
  }

  /// One block's product: the panel `b` of 16 tiles' transforms (`channels` rows) by `rows`
  /// outputs of a plane's filters from `a` on, into the panel rows from `c` on. See `products`.
  @inline(__always)
  func product(
    _ a: UnsafePointer<Float>, turned: Bool, rows: Int, _ b: UnsafePointer<Float>,
    into c: UnsafeMutablePointer<Float>, panel: Bool
  ) {
    // Element (output i, channel j) of the plane's filter matrix.
    let (rowStride, stepStride) = turned ? (1, outputs) : (channels, 1)
    if panel {
      fedsim_panel_product16(a, Int64(rowStride), Int64(stepStride), Int32(rows), b, 16, Int32(channels), c, 16, 0)
    } else {
      Kernels.gemm(
        transposeA: turned, transposeB: false, m: rows, n: 16, k: channels,
        a, lda: turned ? outputs : channels, b, ldb: 16, c, ldc: 16)
    }
  }

  /// The lanes of the last block past the last tile: zeros, so that they cost no more than the
  /// others (whatever was in memory could be subnormal) and are never NaN. `v` holds the blocks
  /// from `origin` on in `panels`; nothing to do unless the last block is among them.
  func zeroSpareLanes(_ v: UnsafeMutablePointer<Float>, _ panels: Winograd.Panels, origin: Int) {
    let (spare, last) = (lanes - tiles, tiles - 16 * origin)
    guard spare > 0, last >= 0, last < 16 * panels.blocks else { return }
    for xi in 0..<Self.planes {
      for c in 0..<channels { (v + panels.offset(xi, tile: last, row: c)).initialize(repeating: 0, count: spare) }
    }
  }
}

extension Winograd {
  /// Whether the products can go through the AVX2 panel kernel (else BLAS, a block at a time).
  static let panelKernel = fedsim_gather_product_available() != 0
}
