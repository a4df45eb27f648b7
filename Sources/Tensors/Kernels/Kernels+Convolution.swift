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

/// Where one kernel tap reads along one axis: the valid output positions `lo..<hi`, and the
/// phase grid and shift its input lies at.
struct TapSpan {
  let lo: Int, hi: Int, phase: Int, shift: Int

  init(tap k: Int, pad: Int, stride: Int, size: Int, out: Int) {
    (lo, hi) = Kernels.validRange(tap: k, pad: pad, stride: stride, size: size, out: out)
    (phase, shift) = Kernels.phase(tap: k, pad: pad, stride: stride)
  }
}

extension Kernels {
  /// The valid output positions `lo..<hi` along one axis for kernel tap `k`.
  @inline(__always)
  static func validRange(tap k: Int, pad: Int, stride: Int, size: Int, out: Int) -> (Int, Int) {
    // Output position p reads input p*stride - pad + k, which must lie in [0, size).
    var lo = pad - k
    lo = lo <= 0 ? 0 : (lo + stride - 1) / stride
    var hi = (size - 1 + pad - k)
    hi = hi < 0 ? 0 : hi / stride + 1
    return (Swift.min(lo, out), Swift.min(Swift.max(hi, lo), out))
  }

  /// Where kernel tap `k` lands for a strided convolution: input index `p*stride - pad + k` of
  /// output position `p` lies in phase `(k - pad) mod stride` of the input, at position
  /// `p + shift` of that phase's subsampled grid.
  @inline(__always)
  static func phase(tap k: Int, pad: Int, stride: Int) -> (phase: Int, shift: Int) {
    let r = ((k - pad) % stride + stride) % stride
    return (r, (k - pad - r) / stride)
  }

  /// Splits each `h × w` plane into `sh·sw` phase grids of `⌈h/sh⌉ × ⌈w/sw⌉` (the pixels whose
  /// row is `py` mod `sh` and column `px` mod `sw`), so strided taps read contiguous rows.
  /// With `adding`, the reverse: folds phase grids back onto the planes, adding.
  private static func phaseSplit(
    planes: UnsafeMutablePointer<Float>, grids: UnsafeMutablePointer<Float>, _ s: ConvShape,
    adding: Bool
  ) {
    let (sh, sw) = s.geo.stride
    let (hp, wp) = ((s.h + sh - 1) / sh, (s.w + sw - 1) / sw)
    let (planes, grids) = (Shared(planes), Shared(grids))
    // Grid by grid over the threads: each writes its own grid, or (adding) its own phase of a
    // plane. The stem of ResNet-18 or DenseNet-121 (3 channels of 224×224, 12 grids) was 0.4% of
    // a DenseNet-121 evaluation at two threads, on one.
    parallel(s.cg * sh * sw, work: s.cg * s.h * s.w) { range in
      for g in range {
        let (c, py, px) = (g / (sh * sw), g / sw % sh, g % sw)
        let (plane, grid) = (planes.pointer + c &* s.h &* s.w, grids.pointer + g &* hp &* wp)
        let n = (s.w - px + sw - 1) / sw
        var yy = 0
        while py &+ yy &* sh < s.h {
          let (src, dst) = (plane + ((py &+ yy &* sh) &* s.w &+ px), grid + yy &* wp)
          if adding {
            for xx in 0..<n { src[xx &* sw] += dst[xx] }
          } else {
            for xx in 0..<n { dst[xx] = src[xx &* sw] }
          }
          yy &+= 1
        }
      }
    }
  }

  /// `dst[0..<count] += src[0..<count]`, eight lanes at a time (rows here are 8 to 32 long,
  /// too short for the compiler's own vectorised loop to start).
  @inline(__always)
  static func addRow(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
    var q = 0
    while q &+ 8 <= count {
      let a = UnsafeRawPointer(dst + q).loadUnaligned(as: SIMD8<Float>.self)
      let b = UnsafeRawPointer(src + q).loadUnaligned(as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(dst + q).storeBytes(of: a + b, as: SIMD8<Float>.self)
      q &+= 8
    }
    if q &+ 4 <= count {
      let a = UnsafeRawPointer(dst + q).loadUnaligned(as: SIMD4<Float>.self)
      let b = UnsafeRawPointer(src + q).loadUnaligned(as: SIMD4<Float>.self)
      UnsafeMutableRawPointer(dst + q).storeBytes(of: a + b, as: SIMD4<Float>.self)
      q &+= 4
    }
    while q < count {
      dst[q] += src[q]
      q &+= 1
    }
  }

  /// `dst[0..<count] = src[0..<count]` inline: a library call costs more than these short rows.
  @inline(__always)
  static func copyRow(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
    var q = 0
    while q &+ 8 <= count {
      UnsafeMutableRawPointer(dst + q).storeBytes(of: UnsafeRawPointer(src + q).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
      q &+= 8
    }
    if q &+ 4 <= count {
      UnsafeMutableRawPointer(dst + q).storeBytes(of: UnsafeRawPointer(src + q).loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
      q &+= 4
    }
    while q < count {
      dst[q] = src[q]
      q &+= 1
    }
  }

  /// `dst[0..<count] = 0` inline.
  @inline(__always)
  static func zeroRow(_ dst: UnsafeMutablePointer<Float>, count: Int) {
    var q = 0
    while q &+ 8 <= count {
      UnsafeMutableRawPointer(dst + q).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self)
      q &+= 8
    }
    while q < count {
      dst[q] = 0
      q &+= 1
    }
  }

  /// Walks the column matrix [patch, oh*ow] of one group of one sample against the grids it is
  /// made from: the phase grids of a strided convolution, or the planes themselves. The matrix's
  /// rows lie `rowStride` floats apart (`pixels` alone, or more when the columns of several
  /// samples sit side by side). Calls `startRow(row)` at each row of the matrix, then
  /// `run(columns, grid, n)` for each stretch of `n` valid (not padding) elements, which lie
  /// contiguously in both.
  @inline(__always)
  private static func forEachRun(
    _ s: ConvShape, columns: UnsafeMutablePointer<Float>, rowStride: Int, grids: UnsafeMutablePointer<Float>,
    channels: Range<Int>, startRow: (UnsafeMutablePointer<Float>) -> Void,
    _ run: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
  ) {
    let (sh, sw) = s.geo.stride
    let (ph, pw) = s.geo.padding
    let (hp, wp) = ((s.h + sh - 1) / sh, (s.w + sw - 1) / sw)
    // Where each tap row and tap column reads, worked out once (divisions) rather than per row.
    withUnsafeTemporaryAllocation(of: TapSpan.self, capacity: s.kh + s.kw) { spans in
      for i in 0..<s.kh { spans[i] = TapSpan(tap: i, pad: ph, stride: sh, size: s.h, out: s.oh) }
      for j in 0..<s.kw { spans[s.kh + j] = TapSpan(tap: j, pad: pw, stride: sw, size: s.w, out: s.ow) }
      var row = columns + channels.lowerBound &* s.kh &* s.kw &* rowStride
      for c in channels {
        for i in 0..<s.kh {
          let r = spans[i]
          for j in 0..<s.kw {
            let q = spans[s.kh + j]
            let grid = grids + ((c &* sh &+ r.phase) &* sw &+ q.phase) &* hp &* wp
            startRow(row)
            if q.hi > q.lo {
              var oh = r.lo
              while oh < r.hi {
                run(row + (oh &* s.ow &+ q.lo), grid + ((oh &+ r.shift) &* wp &+ q.lo &+ q.shift), q.hi &- q.lo)
                oh &+= 1
              }
            }
            row += rowStride
          }
        }
      }
    }
  }

  /// Scratch phase grids for a strided convolution's group (nil for stride 1), zero-filled
  /// when `zeroed` (for accumulating into).
  private static func phaseGrids(_ s: ConvShape, zeroed: Bool) -> UnsafeMutablePointer<Float>? {
    let (sh, sw) = s.geo.stride
    guard sh > 1 || sw > 1 else { return nil }
    let count = s.cg * sh * sw * ((s.h + sh - 1) / sh) * ((s.w + sw - 1) / sw)
    let grids = UnsafeMutablePointer<Float>.allocate(capacity: count)
    if zeroed { grids.initialize(repeating: 0, count: count) }
    return grids
  }

  /// Unfolds one group of one sample (`cg × h × w` at `x`) into `cols` [patch, oh*ow], whose
  /// rows lie `rowStride` floats apart.
  static func im2col(
    _ x: UnsafePointer<Float>, _ s: ConvShape, _ cols: UnsafeMutablePointer<Float>, rowStride: Int? = nil
  ) {
    let planes = UnsafeMutablePointer(mutating: x)  // only read
    let grids = phaseGrids(s, zeroed: false)
    defer { grids?.deallocate() }
    if let grids { phaseSplit(planes: planes, grids: grids, s, adding: false) }
    byChannels(s) { channels in
      forEachRun(s, columns: cols, rowStride: rowStride ?? s.pixels, grids: grids ?? planes, channels: channels) { row in
        zeroRow(row, count: s.pixels)
      } _: { column, grid, n in
        copyRow(column, grid, count: n)
      }
    }
  }

  /// Runs `body` over the input channels of one group, split over the threads when the column
  /// matrix is large: each channel owns its rows of the matrix and its own plane or grids.
  @inline(__always)
  private static func byChannels(_ s: ConvShape, _ body: (Range<Int>) -> Void) {
    parallel(s.cg, work: s.patch &* s.pixels, body)
  }

  /// Folds `cols` [patch, oh*ow] (rows `rowStride` apart) back onto one group of one sample,
  /// adding into `x`.
  static func col2im(
    _ cols: UnsafePointer<Float>, _ s: ConvShape, _ x: UnsafeMutablePointer<Float>, rowStride: Int? = nil
  ) {
    let grids = phaseGrids(s, zeroed: true)
    defer { grids?.deallocate() }
    byChannels(s) { channels in
      forEachRun(
        s, columns: UnsafeMutablePointer(mutating: cols), rowStride: rowStride ?? s.pixels, grids: grids ?? x,
        channels: channels
      ) { _ in
      } _: { column, grid, n in
        addRow(grid, column, count: n)
      }
    }
    if let grids { phaseSplit(planes: x, grids: grids, s, adding: true) }
  }
}
