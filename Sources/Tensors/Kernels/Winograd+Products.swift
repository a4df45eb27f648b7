import CGatherProduct

extension Winograd.Plan {
  /// The 16 products `m[ξ] = u[ξ] · v[ξ]`, [outputs × channels]·[channels × lanes], a block of
  /// 16 tiles at a time: each block's reduction (16 lanes of every channel) stays in the first
  /// caches while the filters are read where they lie. BLAS would pack the filters again for
  /// every product, which costs as much as the product itself when the tiles are few (49 in
  /// ResNet-18's 14×14 layers, 16 in its 7×7). Blocks go to FedSim's threads.
  ///
  /// `turned`: `u` is the transform of filters [channels, outputs, 3, 3] and the product runs
  /// by the filters turned 180° with their channels swapped: `u[P ξ]` read transposed.
  /// `panel`: through the AVX2 kernel or BLAS (by default as `panelTileLimit` says; tests
  /// compare the two).
  func products(
    _ u: UnsafePointer<Float>, _ v: UnsafeMutablePointer<Float>, turned: Bool, into m: UnsafeMutablePointer<Float>,
    panel: Bool? = nil
  ) {
    let panel = panel ?? (Winograd.panelKernel && tiles <= Winograd.panelTileLimit)
    guard panel else { return blasProducts(u, v, turned: turned, into: m) }
    Kernels.gemmFLOPs.add(2 &* 16 &* outputs &* channels &* tiles, ordering: .relaxed)
    zeroSpareLanes(v)
    let blocks = lanes / 16
    // Element (output i, channel j) of plane ξ's filter matrix.
    let (rowStride, stepStride) = turned ? (1, outputs) : (channels, 1)
    let (v, m) = (Shared(v), Shared(m))
    Kernels.parallel(16 * blocks, work: 16 * outputs * lanes) { items in
      for item in items {
        let (xi, block) = item.quotientAndRemainder(dividingBy: blocks)
        fedsim_panel_product16(
          u + filterPlane(xi, turned) * outputs * channels, Int64(rowStride), Int64(stepStride), Int32(outputs),
          v.pointer + xi * channels * lanes + 16 * block, Int32(lanes), Int32(channels),
          m.pointer + xi * outputs * lanes + 16 * block, Int32(lanes), 0)
      }
    }
  }

  /// The plane of the transformed filters that product `ξ` reads: itself, or turned, with the
  /// first and last rows and columns of the 4×4 block swapped.
  @inline(__always)
  private func filterPlane(_ xi: Int, _ turned: Bool) -> Int {
    guard turned else { return xi }
    let swap = { (k: Int) in k == 0 ? 3 : k == 3 ? 0 : k }
    return 4 * swap(xi / 4) + swap(xi % 4)
  }

  /// The lanes past the last tile are read by the last block: zeros, so that they cost no more
  /// than the others (whatever was in memory could be subnormal) and are never NaN.
  private func zeroSpareLanes(_ v: UnsafeMutablePointer<Float>) {
    let spare = lanes - tiles
    guard spare > 0 else { return }
    for row in 0..<16 * channels { (v + row * lanes + tiles).initialize(repeating: 0, count: spare) }
  }

  /// The same products through BLAS: above the panel kernel's tile limit, or where the CPU
  /// lacks AVX2.
  func blasProducts(
    _ u: UnsafePointer<Float>, _ v: UnsafeMutablePointer<Float>, turned: Bool, into m: UnsafeMutablePointer<Float>
  ) {
    for xi in 0..<16 {
      Kernels.gemm(
        transposeA: turned, transposeB: false, m: outputs, n: tiles, k: channels,
        u + filterPlane(xi, turned) * outputs * channels, lda: turned ? outputs : channels,
        v + xi * channels * lanes, ldb: lanes, m + xi * outputs * lanes, ldc: lanes)
    }
  }
}

extension Winograd {
  /// Whether the products can go through the AVX2 panel kernel (else BLAS).
  static let panelKernel = fedsim_gather_product_available() != 0

  /// Above this many tiles the products go through BLAS: its packing is then a small share of
  /// each product, and it streams the transformed tiles where the panel kernel reads them a
  /// plane apart (Inception-v3's first layers, 2,592 to 10,952 tiles, ran slower by the panel).
  static let panelTileLimit = 1024
}
