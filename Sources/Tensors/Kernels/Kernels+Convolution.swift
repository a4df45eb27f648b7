/// The shapes of one 2-D convolution, per sample and per group.
struct ConvShape: Hashable {
  let n: Int, c: Int, h: Int, w: Int  // input
  let o: Int, kh: Int, kw: Int  // filter
  let oh: Int, ow: Int  // output
  let geo: ConvGeometry
  var cg: Int { c / geo.groups }  // input channels per group
  var og: Int { o / geo.groups }  // output channels per group
  var patch: Int { cg * kh * kw }  // rows of the column matrix
  var pixels: Int { oh * ow }  // columns of the column matrix
  /// A 1×1, stride-1, unpadded convolution reads its input as the column matrix directly.
  var isPointwise: Bool {
    kh == 1 && kw == 1 && geo.stride == (1, 1) && geo.padding == (0, 0)
  }

  init(input: [Int], filter: [Int], geometry: ConvGeometry) {
    precondition(input.count == 4 && filter.count == 4, "conv2d takes NCHW input and OIHW filter")
    (n, c, h, w) = (input[0], input[1], input[2], input[3])
    (o, kh, kw) = (filter[0], filter[2], filter[3])
    geo = geometry
    precondition(
      c % geometry.groups == 0 && o % geometry.groups == 0 && filter[1] == c / geometry.groups,
      "conv2d: input \(input) does not fit filter \(filter) with \(geometry.groups) groups")
    (oh, ow) = geometry.outputSize(height: h, width: w, kernel: (kh, kw))
    precondition(oh > 0 && ow > 0, "conv2d: kernel \(kh)×\(kw) larger than padded input \(h)×\(w)")
  }

  var outputShape: [Int] { [n, o, oh, ow] }
}

extension Kernels {
  /// The valid output positions `lo..<hi` along one axis for kernel tap `k`.
  @inline(__always)
  private static func validRange(tap k: Int, pad: Int, stride: Int, size: Int, out: Int) -> (Int, Int) {
    // Output position p reads input p*stride - pad + k, which must lie in [0, size).
    var lo = pad - k
    lo = lo <= 0 ? 0 : (lo + stride - 1) / stride
    var hi = (size - 1 + pad - k)
    hi = hi < 0 ? 0 : hi / stride + 1
    return (Swift.min(lo, out), Swift.min(Swift.max(hi, lo), out))
  }

  /// Unfolds one group of one sample (`cg × h × w` at `x`) into `cols` [patch, oh*ow].
  static func im2col(_ x: UnsafePointer<Float>, _ s: ConvShape, _ cols: UnsafeMutablePointer<Float>) {
    let (sh, sw) = s.geo.stride
    let (ph, pw) = s.geo.padding
    var row = cols
    for c in 0..<s.cg {
      let plane = x + c * s.h * s.w
      for i in 0..<s.kh {
        let (ohLo, ohHi) = validRange(tap: i, pad: ph, stride: sh, size: s.h, out: s.oh)
        for j in 0..<s.kw {
          let (owLo, owHi) = validRange(tap: j, pad: pw, stride: sw, size: s.w, out: s.ow)
          row.update(repeating: 0, count: ohLo * s.ow)
          for oh in ohLo..<ohHi {
            let dst = row + oh * s.ow
            let src = plane + (oh * sh - ph + i) * s.w - pw + j
            if owLo > 0 { dst.update(repeating: 0, count: owLo) }
            if sw == 1 {
              (dst + owLo).update(from: src + owLo, count: owHi - owLo)
            } else {
              for ow in owLo..<owHi { dst[ow] = src[ow * sw] }
            }
            if owHi < s.ow { (dst + owHi).update(repeating: 0, count: s.ow - owHi) }
          }
          (row + ohHi * s.ow).update(repeating: 0, count: (s.oh - ohHi) * s.ow)
          row += s.pixels
        }
      }
    }
  }

  /// Folds `cols` [patch, oh*ow] back onto one group of one sample, adding into `x`.
  static func col2im(_ cols: UnsafePointer<Float>, _ s: ConvShape, _ x: UnsafeMutablePointer<Float>) {
    let (sh, sw) = s.geo.stride
    let (ph, pw) = s.geo.padding
    var row = cols
    for c in 0..<s.cg {
      let plane = x + c * s.h * s.w
      for i in 0..<s.kh {
        let (ohLo, ohHi) = validRange(tap: i, pad: ph, stride: sh, size: s.h, out: s.oh)
        for j in 0..<s.kw {
          let (owLo, owHi) = validRange(tap: j, pad: pw, stride: sw, size: s.w, out: s.ow)
          for oh in ohLo..<ohHi {
            let src = row + oh * s.ow
            let dst = plane + (oh * sh - ph + i) * s.w - pw + j
            for ow in owLo..<owHi { dst[ow * sw] += src[ow] }
          }
          row += s.pixels
        }
      }
    }
  }

  /// The column matrices of every sample and group of `x`, [n, groups, patch, pixels], made once
  /// per input storage and kept with it while it is small enough (at most `cacheLimit` floats).
  static func columns(of x: TensorStorage, _ s: ConvShape) -> TensorStorage {
    if let cached = x.derived.withLock({ $0[s] }) { return cached }
    let block = s.patch * s.pixels
    let cols = TensorStorage(count: s.n * s.geo.groups * block)
    for n in 0..<s.n {
      for g in 0..<s.geo.groups {
        im2col(x.base + (n * s.c + g * s.cg) * s.h * s.w, s, cols.base + (n * s.geo.groups + g) * block)
      }
    }
    if cols.count <= columnCacheLimit { x.derived.withLock { $0[s] = cols } }
    return cols
  }

  /// The largest column matrix (in floats) kept with its input: 4 MiB.
  static let columnCacheLimit = 1 << 20

  /// The matrix that plays the input's part in the product for sample `n`, group `g`: the
  /// cached columns, or the input itself for a pointwise convolution.
  @inline(__always)
  private static func operand(
    _ x: TensorStorage, _ cols: TensorStorage?, _ s: ConvShape, _ n: Int, _ g: Int
  ) -> UnsafePointer<Float> {
    if let cols { return UnsafePointer(cols.base + (n * s.geo.groups + g) * s.patch * s.pixels) }
    return UnsafePointer(x.base + (n * s.c + g * s.cg) * s.h * s.w)
  }

  /// `y = conv2d(x, w)`.
  static func conv2d(
    _ x: TensorStorage, _ w: UnsafePointer<Float>, _ s: ConvShape,
    into y: UnsafeMutablePointer<Float>
  ) {
    let cols = s.isPointwise ? nil : columns(of: x, s)
    for n in 0..<s.n {
      for g in 0..<s.geo.groups {
        gemm(
          transposeA: false, transposeB: false, m: s.og, n: s.pixels, k: s.patch,
          w + g * s.og * s.patch, lda: s.patch, operand(x, cols, s, n, g), ldb: s.pixels,
          y + (n * s.o + g * s.og) * s.pixels, ldc: s.pixels)
      }
    }
  }

  /// `gx = ∂<gy, conv2d(x, w)>/∂x`; `gx` must start zeroed.
  static func conv2dInputGradient(
    _ gy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ s: ConvShape,
    into gx: UnsafeMutablePointer<Float>
  ) {
    let cols = s.isPointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: s.patch * s.pixels)
    defer { cols?.deallocate() }
    for n in 0..<s.n {
      for g in 0..<s.geo.groups {
        let gxg = gx + (n * s.c + g * s.cg) * s.h * s.w
        gemm(
          transposeA: true, transposeB: false, m: s.patch, n: s.pixels, k: s.og,
          w + g * s.og * s.patch, lda: s.patch, gy + (n * s.o + g * s.og) * s.pixels, ldb: s.pixels,
          beta: cols == nil ? 1 : 0, cols ?? gxg, ldc: s.pixels)
        if let cols { col2im(cols, s, gxg) }
      }
    }
  }

  /// `gw = ∂<gy, conv2d(x, w)>/∂w`.
  static func conv2dFilterGradient(
    _ x: TensorStorage, _ gy: UnsafePointer<Float>, _ s: ConvShape,
    into gw: UnsafeMutablePointer<Float>
  ) {
    let cols = s.isPointwise ? nil : columns(of: x, s)
    for n in 0..<s.n {
      for g in 0..<s.geo.groups {
        gemm(
          transposeA: false, transposeB: true, m: s.og, n: s.patch, k: s.pixels,
          gy + (n * s.o + g * s.og) * s.pixels, lda: s.pixels, operand(x, cols, s, n, g),
          ldb: s.pixels, beta: n == 0 ? 0 : 1, gw + g * s.og * s.patch, ldc: s.patch)
      }
    }
  }
}
