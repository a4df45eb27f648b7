import CGatherProduct

/// A direct convolution for narrow layers (9 to 16 channels on the side the products run along,
/// as in DLG's LeNet and its 12 channels): no column matrix, no BLAS packing. Each output
/// element is a sum of input elements at fixed offsets from its own position, times a weight,
/// so one kernel (`fedsim_gather_product16`, AVX2) computes 16 channels of six positions at once,
/// reading the input where it lies (after zero padding). Unfolding such short rows and packing
/// them again for BLAS cost more than the products themselves.
///
/// - forward: rows are output positions, the reduction runs over taps `(c, ky, kx)`, lanes are
///   output channels;
/// - filter gradient: rows are taps, the reduction runs over output positions, lanes are output
///   channels;
/// - input gradient: for each phase `(y mod sy, x mod sx)` of the input, rows are its positions,
///   the reduction runs over the taps that reach that phase `(o, ky, kx)`, lanes are input
///   channels.
enum DirectConvolution {
  static let lanes = 16
  static let available = fedsim_gather_product_available() != 0

  /// Whether the direct kernel serves a product with `channels` on its lane side. Narrower
  /// products would leave most lanes empty, wider ones run better through BLAS.
  static func serves(_ s: ConvShape, channels: Int) -> Bool {
    guard available, s.geo.groups == 1, (9...lanes).contains(channels) else { return false }
    // Offsets are 32-bit in the kernel: the padded input and output gradient must fit (the
    // output gradient's margins are at most a kernel and its padding on each side).
    let (ph, pw) = s.geo.padding
    let paddedInput = s.n * s.c * (s.h + 2 * ph) * (s.w + 2 * pw)
    let paddedGradient = s.n * s.o * (s.h + 2 * (s.kh + ph + 1)) * (s.w + 2 * (s.kw + pw + 1))
    let largest = Swift.max(paddedInput, paddedGradient)
    return largest < Int(Int32.max)
  }

  /// `y = conv2d(x, w)`.
  static func conv2d(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ s: ConvShape, into y: UnsafeMutablePointer<Float>) {
    let input = PaddedPlanes(x, s)
    defer { input.free() }
    let positions = outputOffsets(s, rowLength: input.width)
    let taps = tapOffsets(s, input)
    let v = laneMatrix(rows: s.patch) { k, m in m < s.o ? w[m * s.patch + k] : 0 }
    let tile = UnsafeMutablePointer<Float>.allocate(capacity: s.pixels * lanes)
    defer { (v.deallocate(), tile.deallocate()) }
    for n in 0..<s.n {
      tile.initialize(repeating: 0, count: s.pixels * lanes)
      product(input.base + n * s.c * input.plane, rows: positions, reduction: taps, v, into: tile)
      let out = y + n * s.o * s.pixels
      for m in 0..<s.o {
        for p in 0..<s.pixels { out[m * s.pixels + p] = tile[p * lanes + m] }
      }
    }
  }

  /// `gw = ∂<gy, conv2d(x, w)>/∂w`.
  static func conv2dFilterGradient(
    _ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>, _ s: ConvShape, into gw: UnsafeMutablePointer<Float>
  ) {
    let input = PaddedPlanes(x, s)
    defer { input.free() }
    let positions = outputOffsets(s, rowLength: input.width)
    let taps = tapOffsets(s, input)
    // One sample's output gradient with its channels along the lanes (lanes ≥ o stay zero).
    let v = laneMatrix(rows: s.pixels) { _, _ in 0 }
    let sums = laneMatrix(rows: s.patch) { _, _ in 0 }
    defer { (v.deallocate(), sums.deallocate()) }
    for n in 0..<s.n {
      let g = gy + n * s.o * s.pixels
      for m in 0..<s.o {
        for p in 0..<s.pixels { v[p * lanes + m] = g[m * s.pixels + p] }
      }
      product(input.base + n * s.c * input.plane, rows: taps, reduction: positions, v, into: sums)
    }
    for m in 0..<s.o {
      for k in 0..<s.patch { gw[m * s.patch + k] = sums[k * lanes + m] }
    }
  }

  /// `gx += ∂<gy, conv2d(x, w)>/∂x`, one input phase at a time.
  static func conv2dInputGradient(
    _ gy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ s: ConvShape, into gx: UnsafeMutablePointer<Float>
  ) {
    let phases = InputPhase.all(s)
    let grad = PaddedPlanes(outputGradient: gy, s, phases: phases)
    defer { grad.free() }
    for phase in phases {
      let positions = phase.positions(rowLength: grad.width, top: grad.top, left: grad.left)
      let taps = phase.taps(plane: grad.plane, rowLength: grad.width, outputs: s.o)
      let v = laneMatrix(rows: taps.count) { j, c in
        guard c < s.c else { return 0 }
        let (o, ky, kx) = phase.tap(j)
        return w[((o * s.c + c) * s.kh + ky) * s.kw + kx]
      }
      let tile = UnsafeMutablePointer<Float>.allocate(capacity: positions.count * lanes)
      defer { (v.deallocate(), tile.deallocate()) }
      for n in 0..<s.n {
        tile.initialize(repeating: 0, count: positions.count * lanes)
        product(grad.base + n * s.o * grad.plane, rows: positions, reduction: taps, v, into: tile)
        phase.scatterAdd(tile, lanes: lanes, channels: s.c, into: gx + n * s.c * s.h * s.w, s)
      }
    }
  }

  /// `out[i][m] += Σ_j base[rows[i] + reduction[j]] · v[j][m]`.
  private static func product(
    _ base: UnsafePointer<Float>, rows: [Int32], reduction: [Int32], _ v: UnsafePointer<Float>,
    into out: UnsafeMutablePointer<Float>
  ) {
    rows.withUnsafeBufferPointer { a in
      reduction.withUnsafeBufferPointer { b in
        fedsim_gather_product16(base, a.baseAddress, Int32(a.count), b.baseAddress, Int32(b.count), v, out)
      }
    }
  }

  /// A `rows × 16` matrix whose element `(j, m)` is `value(j, m)`.
  private static func laneMatrix(rows: Int, _ value: (Int, Int) -> Float) -> UnsafeMutablePointer<Float> {
    let v = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, rows) * lanes)
    for j in 0..<rows {
      for m in 0..<lanes { v[j * lanes + m] = value(j, m) }
    }
    return v
  }

  /// Where each output position's window starts in a padded input plane.
  private static func outputOffsets(_ s: ConvShape, rowLength: Int) -> [Int32] {
    var offsets = [Int32]()
    offsets.reserveCapacity(s.pixels)
    for oy in 0..<s.oh {
      for ox in 0..<s.ow { offsets.append(Int32(oy * s.geo.stride.0 * rowLength + ox * s.geo.stride.1)) }
    }
    return offsets
  }

  /// Where each tap `(c, ky, kx)` lies from its window's start in the padded input.
  private static func tapOffsets(_ s: ConvShape, _ input: PaddedPlanes) -> [Int32] {
    var offsets = [Int32]()
    offsets.reserveCapacity(s.patch)
    for c in 0..<s.c {
      for ky in 0..<s.kh {
        for kx in 0..<s.kw { offsets.append(Int32(c * input.plane + ky * input.width + kx)) }
      }
    }
    return offsets
  }
}
