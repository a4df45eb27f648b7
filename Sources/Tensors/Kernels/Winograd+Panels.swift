extension Winograd {
  /// Where a Winograd convolution keeps its transformed tiles (`rows` = channels) or their
  /// products (`rows` = outputs): `planes` planes, each of `blocks` panels of 16 tiles, a panel being
  /// `rows` rows of 16 contiguous floats (one cache line), so that each product of a block reads
  /// and writes one contiguous panel. `planes` is 16 for F(2×2, 3×3), 8 for F(2, 7).
  ///
  /// Panels lie an odd number of cache lines apart, and so do planes: at a power-of-two stride
  /// (64 rows of 16 floats is 4 KiB) the 16 planes' rows of one tile, which a transform reads
  /// together, and one row's successive panels would all fall in the same cache set.
  struct Panels {
    let planes: Int
    let rows: Int
    let blocks: Int

    /// Floats from one panel to the next.
    var blockStride: Int { 16 &* (rows &+ 1 &+ (rows & 1)) }
    /// Floats from one plane to the next.
    var planeStride: Int { 16 &* ((blocks &* (blockStride / 16)) | 1) }
    /// Floats the planes take, and eight over: a run's loads may reach past the last tile.
    var count: Int { planes &* planeStride &+ 8 }

    /// Plane `ξ`'s panel of block `block`.
    @inline(__always)
    func panel(_ xi: Int, block: Int) -> Int { xi &* planeStride &+ block &* blockStride }

    /// Tile `t` of row `row` in plane `ξ`.
    @inline(__always)
    func offset(_ xi: Int, tile t: Int, row: Int) -> Int { panel(xi, block: t >> 4) &+ row &* 16 &+ (t & 15) }
  }
}
