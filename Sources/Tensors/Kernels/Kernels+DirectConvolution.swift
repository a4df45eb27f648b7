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
    let paddedGradient = s.n * s.o * (s.h + 2 * (s.kh + ph + 1)) * (s.w + 2 * (s.kw + pw + 1) + lanes)
    let largest = Swift.max(paddedInput, paddedGradient)
    return largest < Int(Int32.max)
  }

  /// Whether a narrow layer's forward pass and filter gradient go direct (output channels along the lanes).
  static func servesForward(_ s: ConvShape) -> Bool { serves(s, channels: s.og) }

  /// Whether its input gradient goes direct: input channels along the lanes, or for fewer
  /// channels (an image's three) under a narrow layer, input positions along them when a
  /// phase's rows fill at least half of them.
  static func servesInputGradient(_ s: ConvShape) -> Bool {
    serves(s, channels: s.cg) || servesByPositions(s)
  }

  /// Whether the input gradient goes with positions along the lanes: too few input channels,
  /// a narrow layer, and phase rows at least half as long as the lanes.
  static func servesByPositions(_ s: ConvShape) -> Bool {
    s.cg < 9 && servesForward(s) && (s.w + s.geo.stride.1 - 1) / s.geo.stride.1 >= lanes / 2
  }

  /// `y = conv2d(x, w)`.
  static func conv2d(_ x: TensorStorage, _ w: UnsafePointer<Float>, _ s: ConvShape, into y: UnsafeMutablePointer<Float>) {
    let input = PaddedPlanes(input: x, s)
    let positions = outputOffsets(s, rowLength: input.width)
    let taps = tapOffsets(s, input)
    let v = laneMatrix(w, count: s.patch, channels: s.o)  // v[k][m] = w[m][k]
    let tile = laneRows(s.pixels)
    defer { (v.deallocate(), tile.deallocate()) }
    for n in 0..<s.n {
      product(input.base + n * s.c * input.plane, rows: positions, reduction: taps, v, channels: s.o, into: tile, accumulate: false)
      fromLanes(tile, count: s.pixels, channels: s.o, into: y + n * s.o * s.pixels)
    }
  }

  /// `gw = ∂<gy, conv2d(x, w)>/∂w`.
  static func conv2dFilterGradient(
    _ x: TensorStorage, _ gy: UnsafePointer<Float>, _ s: ConvShape, into gw: UnsafeMutablePointer<Float>
  ) {
    let input = PaddedPlanes(input: x, s)
    let positions = outputOffsets(s, rowLength: input.width)
    let taps = tapOffsets(s, input)
    // One sample's output gradient with its channels along the lanes (lanes ≥ o stay zero).
    let v = laneRows(s.pixels, zeroed: true)
    let sums = laneRows(s.patch, zeroed: true)
    defer { (v.deallocate(), sums.deallocate()) }
    for n in 0..<s.n {
      toLanes(gy + n * s.o * s.pixels, count: s.pixels, channels: s.o, into: v)
      product(
        input.base + n * s.c * input.plane, rows: taps, reduction: positions, v, channels: s.o, into: sums, accumulate: true)
    }
    fromLanes(sums, count: s.patch, channels: s.o, into: gw)
  }

  /// `gx = ∂<gy, conv2d(x, w)>/∂x`, one input phase at a time. Each phase writes its own
  /// positions; those of phases no tap reaches (a kernel narrower than its stride) are zeroed.
  static func conv2dInputGradient(
    _ gy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ s: ConvShape, into gx: UnsafeMutablePointer<Float>
  ) {
    let byPositions = !serves(s, channels: s.cg)
    let phases = InputPhase.all(s)
    if phases.count < Swift.min(s.geo.stride.0, s.h) * Swift.min(s.geo.stride.1, s.w) {
      Kernels.fill(gx, count: s.n * s.c * s.h * s.w, with: 0)
    }
    let grad = PaddedPlanes(outputGradient: gy, s, phases: phases, window: byPositions ? lanes : 1)
    for phase in phases {
      let taps = phase.taps(plane: grad.plane, rowLength: grad.width, outputs: s.o)
      let weights = phase.weights(w, s)
      defer { weights.deallocate() }
      if byPositions {
        inputGradientByPositions(phase, grad, taps, weights, s, into: gx)
      } else {
        inputGradientByChannels(phase, grad, taps, weights, s, into: gx)
      }
    }
    withExtendedLifetime(grad) {}  // its copy backs `grad.base`
  }

  /// One phase's input gradient with the input channels along the lanes, sample by sample.
  private static func inputGradientByChannels(
    _ phase: InputPhase, _ grad: PaddedPlanes, _ taps: [Int32], _ weights: UnsafePointer<Float>, _ s: ConvShape,
    into gx: UnsafeMutablePointer<Float>
  ) {
    let positions = phase.positions(grad, window: 1)
    let v = laneMatrix(weights, count: taps.count, channels: s.c)  // v[j][c] = weights[c][j]
    let tile = laneRows(positions.count)
    defer { (v.deallocate(), tile.deallocate()) }
    for n in 0..<s.n {
      product(grad.base + n * s.o * grad.plane, rows: positions, reduction: taps, v, channels: s.c, into: tile, accumulate: false)
      phase.storeChannels(tile, lanes: lanes, channels: s.c, into: gx + n * s.c * s.h * s.w, s)
    }
  }

  /// One phase's input gradient with its positions along the lanes (16 of a row at a time),
  /// all samples at once, channel by channel.
  private static func inputGradientByPositions(
    _ phase: InputPhase, _ grad: PaddedPlanes, _ taps: [Int32], _ weights: UnsafePointer<Float>, _ s: ConvShape,
    into gx: UnsafeMutablePointer<Float>
  ) {
    let windows = phase.positions(grad, window: lanes)
    var rows = [Int32]()
    rows.reserveCapacity(s.n * windows.count)
    for n in 0..<s.n { rows.append(contentsOf: windows.map { $0 + Int32(n * s.o * grad.plane) }) }
    let tile = laneRows(rows.count)
    defer { tile.deallocate() }
    Kernels.gemmFLOPs.add(2 &* s.n &* phase.rows &* phase.columns &* taps.count &* s.c, ordering: .relaxed)
    for c in 0..<s.c {
      rows.withUnsafeBufferPointer { a in
        taps.withUnsafeBufferPointer { b in
          fedsim_window_product16(
            grad.base, a.baseAddress, Int32(a.count), b.baseAddress, Int32(b.count), weights + c * taps.count, tile, 0)
        }
      }
      for n in 0..<s.n {
        phase.storeWindows(tile + n * windows.count * lanes, lanes: lanes, into: gx + (n * s.c + c) * s.h * s.w, s)
      }
    }
  }

  /// Scratch for `rows` rows of 16 lanes, on a cache line (so that no row straddles two; the
  /// kernel reads and writes whole rows), zero-filled when `zeroed`.
  private static func laneRows(_ rows: Int, zeroed: Bool = false) -> UnsafeMutablePointer<Float> {
    let count = Swift.max(1, rows) * lanes
    let v = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.size, alignment: 64)
      .bindMemory(to: Float.self, capacity: count)
    if zeroed { v.initialize(repeating: 0, count: count) }
    return v
  }

  /// Zeroed lane rows holding `channels` rows of `count` floats from `src` transposed:
  /// `v[j][m] = src[m][j]`, the layout the kernel reads (lanes ≥ `channels` stay zero).
  private static func laneMatrix(_ src: UnsafePointer<Float>, count: Int, channels: Int) -> UnsafeMutablePointer<Float> {
    let v = laneRows(count, zeroed: true)
    toLanes(src, count: count, channels: channels, into: v)
    return v
  }

  /// `v[j][m] = src[m][j]` for `m < channels`, `j < count`; other lanes are left as they are.
  private static func toLanes(_ src: UnsafePointer<Float>, count: Int, channels: Int, into v: UnsafeMutablePointer<Float>) {
    copy(channels, count, from: src, steps: (count, 1), to: v, steps: (1, lanes))
  }

  /// The reverse: `dst[m][j] = tile[j][m]` for `m < channels`, `j < count`.
  private static func fromLanes(_ tile: UnsafePointer<Float>, count: Int, channels: Int, into dst: UnsafeMutablePointer<Float>) {
    copy(channels, count, from: tile, steps: (1, lanes), to: dst, steps: (count, 1))
  }

  /// `to[m·t.0 + j·t.1] = from[m·f.0 + j·f.1]` for `m < channels`, `j < count`.
  private static func copy(
    _ channels: Int, _ count: Int, from: UnsafePointer<Float>, steps f: (Int, Int),
    to: UnsafeMutablePointer<Float>, steps t: (Int, Int)
  ) {
    for m in 0..<channels {
      var (source, target) = (from + m &* f.0, to + m &* t.0)
      for _ in 0..<count {
        target.pointee = source.pointee
        (source, target) = (source + f.1, target + t.1)
      }
    }
  }

  /// `out[i][m] (+)= Σ_j base[rows[i] + reduction[j]] · v[j][m]`, of which `channels` lanes are used.
  private static func product(
    _ base: UnsafePointer<Float>, rows: [Int32], reduction: [Int32], _ v: UnsafePointer<Float>, channels: Int,
    into out: UnsafeMutablePointer<Float>, accumulate: Bool
  ) {
    Kernels.gemmFLOPs.add(2 &* rows.count &* reduction.count &* channels, ordering: .relaxed)
    rows.withUnsafeBufferPointer { a in
      reduction.withUnsafeBufferPointer { b in
        fedsim_gather_product16(
          base, a.baseAddress, Int32(a.count), b.baseAddress, Int32(b.count), v, out, accumulate ? 1 : 0)
      }
    }
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
