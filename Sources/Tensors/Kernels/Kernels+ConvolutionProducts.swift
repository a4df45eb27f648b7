/// Consecutive samples of a batch whose column matrices sit side by side in one matrix, so one
/// matrix product serves them all (a LeNet layer at batch 64 is then one product of 12 × 300 ×
/// 3,136 instead of 64 products of 12 × 300 × 49, which BLAS runs far below its peak).
struct SampleChunk: Equatable {
  let first: Int
  let count: Int
}

extension Kernels {
  /// The largest column matrix (in floats) built at once: 32 MiB. Larger batches go in chunks.
  static let chunkLimit = 1 << 23

  /// The largest column matrix (in floats) kept with its input for the filter gradient: 4 MiB.
  /// Larger ones are unfolded again: kept, Inception-v3's (299, batch 2) held 190 MiB of them
  /// through an evaluation, and its peak passed PyTorch's.
  static let columnCacheLimit = 1 << 20

  /// The batch in chunks of samples. A pointwise convolution reads each sample's input in place,
  /// so it goes one sample at a time.
  static func chunks(_ s: ConvShape) -> [SampleChunk] {
    let per = s.isPointwise ? 1 : Swift.max(1, Swift.min(s.n, chunkLimit / Swift.max(1, s.patch * s.pixels)))
    return stride(from: 0, to: s.n, by: per).map { SampleChunk(first: $0, count: Swift.min(per, s.n - $0)) }
  }

  /// The column matrices of `chunk`'s samples, [groups, patch, count·pixels]: sample `i`'s
  /// columns start at `i·pixels` of every row. The whole batch's is kept with `x` while small,
  /// unless the layer goes by Winograd.
  static func columns(of x: TensorStorage, _ s: ConvShape, _ chunk: SampleChunk) -> TensorStorage {
    let whole = chunk.count == s.n
    let key = DerivedLayout(kind: .columns, shape: s)
    if whole, let cached = x.derived.withLock({ $0[key] }) { return cached }
    let width = chunk.count * s.pixels
    let cols = TensorStorage(count: s.geo.groups * s.patch * width)
    for i in 0..<chunk.count {
      for g in 0..<s.geo.groups {
        im2col(
          x.base + ((chunk.first + i) * s.c + g * s.cg) * s.h * s.w, s,
          cols.base + g * s.patch * width + i * s.pixels, rowStride: width)
      }
    }
    // Kept for the filter gradient when the forward pass built them; a 1×7 or 7×1 layer's
    // forward pass by Winograd does not, and its filter gradient needs them once (a 3×3 layer's
    // by Winograd needs none).
    let winograd = Winograd.servesForward(s) || LineWinograd.servesForward(s)
    if whole && cols.count <= columnCacheLimit && !winograd { x.derived.withLock { $0[key] = cols } }
    return cols
  }

  /// The matrix that plays the input's part in the product for group `g` of `chunk`: its
  /// columns, or the input itself for a pointwise convolution (one sample).
  @inline(__always)
  private static func operand(
    _ x: TensorStorage, _ cols: TensorStorage?, _ s: ConvShape, _ chunk: SampleChunk, _ g: Int
  ) -> UnsafePointer<Float> {
    if let cols { return UnsafePointer(cols.base + g * s.patch * chunk.count * s.pixels) }
    return UnsafePointer(x.base + (chunk.first * s.c + g * s.cg) * s.h * s.w)
  }

  /// Moves channels `g·og ..< (g+1)·og` of `chunk`'s samples between `t` [n, o, pixels] and
  /// `packed` [og, count·pixels]: gathering into `packed`, or scattering out of it into `t`.
  private static func repack(
    _ t: UnsafeMutablePointer<Float>, _ packed: UnsafeMutablePointer<Float>, _ s: ConvShape, _ chunk: SampleChunk,
    _ g: Int, gather: Bool
  ) {
    let width = chunk.count * s.pixels
    for i in 0..<chunk.count {
      for r in 0..<s.og {
        let a = t + ((chunk.first + i) * s.o + g * s.og + r) * s.pixels
        let b = packed + r * width + i * s.pixels
        if gather { b.update(from: a, count: s.pixels) } else { a.update(from: b, count: s.pixels) }
      }
    }
  }

  /// Scratch for one group's packed output gradient or output, [og, count·pixels]; nil for a
  /// one-sample chunk, whose group slice is already that matrix.
  private static func packScratch(_ s: ConvShape, _ chunk: SampleChunk) -> UnsafeMutablePointer<Float>? {
    chunk.count == 1 ? nil : .allocate(capacity: s.og * chunk.count * s.pixels)
  }

  /// Calls `body(chunk, columns, packed, g)` for every group of every chunk of `x`'s samples,
  /// with the chunk's column matrices (nil for a pointwise convolution) and scratch for one
  /// group's packed output (nil for one sample).
  private static func forEachGroup(
    of x: TensorStorage, _ s: ConvShape,
    _ body: (SampleChunk, TensorStorage?, UnsafeMutablePointer<Float>?, Int) -> Void
  ) {
    for chunk in chunks(s) {
      let cols = s.isPointwise ? nil : columns(of: x, s, chunk)
      let packed = packScratch(s, chunk)
      defer { packed?.deallocate() }
      for g in 0..<s.geo.groups { body(chunk, cols, packed, g) }
    }
  }

  /// `y = conv2d(x, w)`: directly for a depthwise or narrow layer, by Winograd's transforms for
  /// a wide 3×3, 1×7 or 7×1 one, else by unfolding and a matrix product.
  static func conv2d(
    _ x: TensorStorage, _ w: TensorStorage, _ s: ConvShape,
    into y: UnsafeMutablePointer<Float>
  ) {
    let path = ConvolutionPath.forward(s)
    LayerTimes.timed(s, .forward, path) {
      KernelTimes.timed(.products) {
        switch path {
        case .depthwise: Depthwise.conv2d(x.base, w.base, s, into: y)
        case .direct: DirectConvolution.conv2d(x, w.base, s, into: y)
        case .winograd: Winograd.conv2d(x.base, w, s, into: y)
        case .winograd4: Winograd4.conv2d(x.base, w, s, into: y)
        case .lineWinograd: LineWinograd.conv2d(x.base, w, s, into: y)
        case .unfolded: unfoldedConv2d(x, w, s, into: y)
        }
      }
    }
  }

  /// `gx = ∂<gy, conv2d(x, w)>/∂x`, overwriting `gx`, or added to it (`adding`, only where
  /// `unfoldsInputGradient`).
  static func conv2dInputGradient(
    _ gy: UnsafePointer<Float>, _ w: TensorStorage, _ s: ConvShape,
    into gx: UnsafeMutablePointer<Float>, adding: Bool = false
  ) {
    let path = ConvolutionPath.inputGradient(s)
    precondition(!adding || path == .unfolded, "conv2dInputGradient: this layer's path cannot add")
    LayerTimes.timed(s, .inputGradient, path) {
      KernelTimes.timed(.products) {
        switch path {
        case .unfolded: unfoldedConv2dInputGradient(gy, w, s, into: gx, adding: adding)
        case .depthwise: Depthwise.conv2dInputGradient(gy, w.base, s, into: gx)
        case .direct: DirectConvolution.conv2dInputGradient(gy, w.base, s, into: gx)
        case .winograd: Winograd.conv2dInputGradient(gy, w, s, into: gx)
        case .winograd4: Winograd4.conv2dInputGradient(gy, w, s, into: gx)
        case .lineWinograd: LineWinograd.conv2dInputGradient(gy, w, s, into: gx)
        }
      }
    }
  }

  /// Whether a layer's input gradient goes through column matrices or, pointwise, one product a
  /// sample: both can add into what the gradient's storage holds (col2im adds; the products
  /// then take β = 1), so a last backward pass adds it into its sum (DenseNet-121's 1×1 layers).
  static func unfoldsInputGradient(_ s: ConvShape) -> Bool { ConvolutionPath.inputGradient(s) == .unfolded }

  /// `gw = ∂<gy, conv2d(x, w)>/∂w`: directly, by Winograd's transforms for a wide 3×3 layer, or
  /// through column matrices.
  static func conv2dFilterGradient(
    _ x: TensorStorage, _ gy: UnsafePointer<Float>, _ s: ConvShape,
    into gw: UnsafeMutablePointer<Float>
  ) {
    let path = ConvolutionPath.filterGradient(s)
    LayerTimes.timed(s, .filterGradient, path) {
      KernelTimes.timed(.products) {
        switch path {
        case .depthwise: Depthwise.conv2dFilterGradient(x.base, gy, s, into: gw)
        case .direct: DirectConvolution.conv2dFilterGradient(x, gy, s, into: gw)
        case .winograd: Winograd.conv2dFilterGradient(x.base, gy, s, into: gw)
        case .lineWinograd, .winograd4, .unfolded: unfoldedConv2dFilterGradient(x, gy, s, into: gw)
        }
      }
    }
  }

  /// `y = conv2d(x, w)` through column matrices.
  static func unfoldedConv2d(
    _ x: TensorStorage, _ w: TensorStorage, _ s: ConvShape,
    into y: UnsafeMutablePointer<Float>
  ) {
    forEachGroup(of: x, s) { chunk, cols, packed, g in
      let width = chunk.count * s.pixels
      let (input, out) = (operand(x, cols, s, chunk, g), packed ?? y + (chunk.first * s.o + g * s.og) * s.pixels)
      if s.geo.groups > 1 || !filterProduct(
        w, transposed: false, m: s.og, n: width, k: s.patch, input, ldx: width, out, ldc: width)
      {
        gemm(
          transposeA: false, transposeB: false, m: s.og, n: width, k: s.patch,
          w.base + g * s.og * s.patch, lda: s.patch, input, ldb: width, out, ldc: width)
      }
      if let packed { repack(y, packed, s, chunk, g, gather: false) }
    }
  }

  /// `gx = ∂<gy, conv2d(x, w)>/∂x` through column matrices.
  static func unfoldedConv2dInputGradient(
    _ gy: UnsafePointer<Float>, _ w: TensorStorage, _ s: ConvShape,
    into gx: UnsafeMutablePointer<Float>, adding: Bool = false
  ) {
    // col2im adds into gx; a pointwise layer's products write each sample's channels once.
    if !s.isPointwise && !adding { fill(gx, count: s.n * s.c * s.h * s.w, with: 0) }
    let gyM = UnsafeMutablePointer(mutating: gy)  // only read
    for chunk in chunks(s) {
      let width = chunk.count * s.pixels
      let cols = s.isPointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: s.patch * width)
      let packed = packScratch(s, chunk)
      defer { (cols?.deallocate(), packed?.deallocate()) }
      for g in 0..<s.geo.groups {
        if let packed { repack(gyM, packed, s, chunk, g, gather: true) }
        let gxg = gx + (chunk.first * s.c + g * s.cg) * s.h * s.w
        let (grad, beta) = (packed ?? gyM + (chunk.first * s.o + g * s.og) * s.pixels, Float(adding && cols == nil ? 1 : 0))
        if s.geo.groups > 1 || !filterProduct(
          w, transposed: true, m: s.patch, n: width, k: s.og, grad, ldx: width, beta: beta, cols ?? gxg, ldc: width)
        {
          gemm(
            transposeA: true, transposeB: false, m: s.patch, n: width, k: s.og,
            w.base + g * s.og * s.patch, lda: s.patch, grad, ldb: width, beta: beta, cols ?? gxg, ldc: width)
        }
        guard let cols else { continue }
        for i in 0..<chunk.count {
          col2im(cols + i * s.pixels, s, gxg + i * s.c * s.h * s.w, rowStride: width)
        }
      }
    }
  }

  /// `gw = ∂<gy, conv2d(x, w)>/∂w` through column matrices.
  static func unfoldedConv2dFilterGradient(
    _ x: TensorStorage, _ gy: UnsafePointer<Float>, _ s: ConvShape,
    into gw: UnsafeMutablePointer<Float>
  ) {
    let gyM = UnsafeMutablePointer(mutating: gy)  // only read
    forEachGroup(of: x, s) { chunk, cols, packed, g in
      let width = chunk.count * s.pixels
      if let packed { repack(gyM, packed, s, chunk, g, gather: true) }
      gemm(
        transposeA: false, transposeB: true, m: s.og, n: s.patch, k: width,
        packed ?? gyM + (chunk.first * s.o + g * s.og) * s.pixels, lda: width, operand(x, cols, s, chunk, g),
        ldb: width, beta: chunk.first == 0 ? 0 : 1, gw + g * s.og * s.patch, ldc: s.patch)
    }
  }
}
