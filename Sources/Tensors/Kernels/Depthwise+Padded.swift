extension Depthwise {
  /// Whether a depthwise layer's forward pass and input gradient go through padded planes: stride
  /// 1, and a padding short of the kernel on each axis (the input gradient's transposed
  /// convolution then pads by the kernel less one less the padding).
  static func padsPlanes(_ s: ConvShape) -> Bool {
    s.geo.stride == (1, 1) && s.geo.padding.0 < s.kh && s.geo.padding.1 < s.kw
  }

  /// The forward pass of a `padsPlanes` layer.
  static func paddedConv2d(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ s: ConvShape, into y: UnsafeMutablePointer<Float>
  ) {
    let geometry = DepthwisePlanes(
      size: (s.h, s.w), padding: s.geo.padding, kernel: (s.kh, s.kw), out: (s.oh, s.ow), flipped: false)
    geometry.convolve(x, planes: s.n * s.c, channels: s.c, w, into: y)
  }

  /// The input gradient of a `padsPlanes` layer: the output gradient by the filters turned 180°.
  static func paddedInputGradient(
    _ gy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ s: ConvShape, into gx: UnsafeMutablePointer<Float>
  ) {
    let padding = (s.kh - 1 - s.geo.padding.0, s.kw - 1 - s.geo.padding.1)
    let geometry = DepthwisePlanes(
      size: (s.oh, s.ow), padding: padding, kernel: (s.kh, s.kw), out: (s.h, s.w), flipped: true)
    geometry.convolve(gy, planes: s.n * s.c, channels: s.c, w, into: gx)
  }
}

/// A stride-1 depthwise convolution plane by plane: each plane copied once into a zero-padded
/// scratch, each output row summed from its taps' rows in whole vectors of eight. Tap by tap,
/// rows of 8 or 17 pixels (Inception-v3's pooling branches) ran mostly scalar, at 3–13 GFLOP/s.
struct DepthwisePlanes {
  let size: (Int, Int)
  let padding: (Int, Int)
  let kernel: (Int, Int)
  let out: (Int, Int)
  /// Taps read turned 180°.
  let flipped: Bool

  private var vectors: Int { (out.1 + 7) / 8 }
  /// The padded copy's rows and their length: room for the last vector's furthest tap.
  private var rows: Int { out.0 + kernel.0 - 1 }
  private var columns: Int { Swift.max(8 * vectors + kernel.1 - 1, size.1 + 2 * padding.1) }

  /// `y[p] = Σ taps(p) · x[p]` for every plane `p`, the filter of plane `p` being `w`'s
  /// `p mod channels`-th.
  func convolve(
    _ x: UnsafePointer<Float>, planes: Int, channels: Int, _ w: UnsafePointer<Float>,
    into y: UnsafeMutablePointer<Float>
  ) {
    let (x, y) = (Shared(UnsafeMutablePointer(mutating: x)), Shared(y))
    let taps = kernel.0 * kernel.1
    Kernels.parallel(planes, work: planes * out.0 * out.1 * taps) { range in
      Scratch.with(rows * columns + taps) { scratch in
        let (copy, filter) = (scratch, scratch + rows * columns)
        for p in range {
          let tap = w + (p % channels) * taps
          for k in 0..<taps { filter[k] = tap[flipped ? taps - 1 - k : k] }
          pad(x.pointer + p * size.0 * size.1, into: copy)
          plane(copy, filter, into: y.pointer + p * out.0 * out.1)
        }
      }
    }
  }

  /// The plane at `x` into `copy`, zeros around it.
  private func pad(_ x: UnsafePointer<Float>, into copy: UnsafeMutablePointer<Float>) {
    copy.initialize(repeating: 0, count: rows * columns)
    for r in 0..<size.0 {
      (copy + (r + padding.0) * columns + padding.1).update(from: x + r * size.1, count: size.1)
    }
  }

  /// One output plane from its padded input: taps in row-major order, each a vector of eight.
  private func plane(_ copy: UnsafePointer<Float>, _ filter: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
    if kernel == (3, 3) { return plane3x3(copy, filter, into: y) }
    for oy in 0..<out.0 {
      for v in 0..<vectors {
        var sum = SIMD8<Float>()
        for ky in 0..<kernel.0 {
          let row = copy + (oy + ky) * columns + 8 * v
          for kx in 0..<kernel.1 {
            sum += filter[ky * kernel.1 + kx] * UnsafeRawPointer(row + kx).loadUnaligned(as: SIMD8<Float>.self)
          }
        }
        sum.store(lanes: Swift.min(8, out.1 - 8 * v), at: y + oy * out.1 + 8 * v)
      }
    }
  }

  /// `plane` for 3×3 filters (average pooling's), its nine taps held in registers: the same
  /// sums in the same order.
  private func plane3x3(_ copy: UnsafePointer<Float>, _ f: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
    let (t0, t1, t2) = (SIMD8(repeating: f[0]), SIMD8(repeating: f[1]), SIMD8(repeating: f[2]))
    let (t3, t4, t5) = (SIMD8(repeating: f[3]), SIMD8(repeating: f[4]), SIMD8(repeating: f[5]))
    let (t6, t7, t8) = (SIMD8(repeating: f[6]), SIMD8(repeating: f[7]), SIMD8(repeating: f[8]))
    let load = { (p: UnsafePointer<Float>) in UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
    for oy in 0..<out.0 {
      for v in 0..<vectors {
        let (r0, r1, r2) = (copy + oy * columns + 8 * v, copy + (oy + 1) * columns + 8 * v, copy + (oy + 2) * columns + 8 * v)
        var sum = SIMD8<Float>()
        sum += t0 * load(r0)
        sum += t1 * load(r0 + 1)
        sum += t2 * load(r0 + 2)
        sum += t3 * load(r1)
        sum += t4 * load(r1 + 1)
        sum += t5 * load(r1 + 2)
        sum += t6 * load(r2)
        sum += t7 * load(r2 + 1)
        sum += t8 * load(r2 + 2)
        sum.store(lanes: Swift.min(8, out.1 - 8 * v), at: y + oy * out.1 + 8 * v)
      }
    }
  }
}
