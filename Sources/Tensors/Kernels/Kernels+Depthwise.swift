/// A depthwise convolution, one filter a channel (groups = channels = outputs), as average
/// pooling is: directly, plane by plane, tap by tap. Unfolded, each channel was a one-row matrix
/// product of its own (Inception-v3's pooling branches made about 7,000 of them an evaluation,
/// at 3 GFLOP/s).
enum Depthwise {
  static func serves(_ s: ConvShape) -> Bool { s.geo.groups == s.c && s.o == s.c && s.c > 1 }

  /// Calls `body(ky, kx, oy, iy, columns, firstInput)` for every tap and every output row `oy`
  /// whose input row `iy` lies inside: output columns `columns` read input columns
  /// `firstInput + k·stride`, all inside.
  @inline(__always)
  private static func forEachTapRow(_ s: ConvShape, _ body: (Int, Int, Int, Int, Range<Int>, Int) -> Void) {
    let (sy, sx) = s.geo.stride
    let (py, px) = s.geo.padding
    for ky in 0..<s.kh {
      for kx in 0..<s.kw {
        // ox·sx − px + kx ∈ [0, w): ox from ⌈(px − kx)/sx⌉ to ⌊(w − 1 + px − kx)/sx⌋.
        let low = Swift.max(0, (px - kx + sx - 1) / sx)
        let high = Swift.min(s.ow, (s.w - 1 + px - kx) / sx + 1)
        guard low < high, s.w - 1 + px - kx >= 0 else { continue }
        for oy in 0..<s.oh {
          let iy = oy * sy - py + ky
          guard iy >= 0 && iy < s.h else { continue }
          body(ky, kx, oy, iy, low..<high, low * sx - px + kx)
        }
      }
    }
  }

  /// `y = conv2d(x, w)`: through padded planes where they serve (`padsPlanes`), else tap by tap.
  static func conv2d(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ s: ConvShape, into y: UnsafeMutablePointer<Float>) {
    if padsPlanes(s) { return paddedConv2d(x, w, s, into: y) }
    let (x, y) = (Shared(UnsafeMutablePointer(mutating: x)), Shared(y))
    Kernels.parallel(s.n * s.c, work: s.n * s.c * s.pixels * s.kh * s.kw) { planes in
      for p in planes {
        let (src, dst, filter) = (x.pointer + p * s.h * s.w, y.pointer + p * s.pixels, w + (p % s.c) * s.kh * s.kw)
        dst.initialize(repeating: 0, count: s.pixels)
        forEachTapRow(s) { ky, kx, oy, iy, columns, first in
          axpy(filter[ky * s.kw + kx], src + iy * s.w + first, step: s.geo.stride.1, into: dst + oy * s.ow + columns.lowerBound, count: columns.count)
        }
      }
    }
  }

  /// `gx = ∂<gy, conv2d(x, w)>/∂x`, overwriting `gx`: as `conv2d`.
  static func conv2dInputGradient(
    _ gy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ s: ConvShape, into gx: UnsafeMutablePointer<Float>
  ) {
    if padsPlanes(s) { return paddedInputGradient(gy, w, s, into: gx) }
    let (gy, gx) = (Shared(UnsafeMutablePointer(mutating: gy)), Shared(gx))
    Kernels.parallel(s.n * s.c, work: s.n * s.c * s.pixels * s.kh * s.kw) { planes in
      for p in planes {
        let (src, dst, filter) = (gy.pointer + p * s.pixels, gx.pointer + p * s.h * s.w, w + (p % s.c) * s.kh * s.kw)
        dst.initialize(repeating: 0, count: s.h * s.w)
        forEachTapRow(s) { ky, kx, oy, iy, columns, first in
          let (weight, upstream, input, step) = (filter[ky * s.kw + kx], src + oy * s.ow + columns.lowerBound, dst + iy * s.w + first, s.geo.stride.1)
          if step == 1 {
            axpy(weight, upstream, step: 1, into: input, count: columns.count)
          } else {
            for k in 0..<columns.count { input[k * step] += weight * upstream[k] }
          }
        }
      }
    }
  }

  /// `gw = ∂<gy, conv2d(x, w)>/∂w`: each channel's taps summed over the batch, in Double.
  static func conv2dFilterGradient(
    _ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>, _ s: ConvShape, into gw: UnsafeMutablePointer<Float>
  ) {
    let (x, gy, gw) = (Shared(UnsafeMutablePointer(mutating: x)), Shared(UnsafeMutablePointer(mutating: gy)), Shared(gw))
    Kernels.parallel(s.c, work: s.n * s.c * s.pixels * s.kh * s.kw) { channels in
      for c in channels {
        var sums = [Double](repeating: 0, count: s.kh * s.kw)
        for i in 0..<s.n {
          let (input, upstream) = (x.pointer + (i * s.c + c) * s.h * s.w, gy.pointer + (i * s.c + c) * s.pixels)
          forEachTapRow(s) { ky, kx, oy, iy, columns, first in
            let (row, at, step) = (upstream + oy * s.ow + columns.lowerBound, input + iy * s.w + first, s.geo.stride.1)
            var sum: Float = 0
            for k in 0..<columns.count { sum += row[k] * at[k * step] }
            sums[ky * s.kw + kx] += Double(sum)
          }
        }
        for k in 0..<s.kh * s.kw { gw.pointer[c * s.kh * s.kw + k] = Float(sums[k]) }
      }
    }
  }

  /// `y[k] += a · x[k·step]` for `k < count`; eight lanes at a time when `step` is 1.
  @inline(__always)
  private static func axpy(_ a: Float, _ x: UnsafePointer<Float>, step: Int, into y: UnsafeMutablePointer<Float>, count: Int) {
    var k = 0
    if step == 1 {
      let a8 = SIMD8<Float>(repeating: a)
      while k + 8 <= count {
        let sum = UnsafeRawPointer(y + k).loadUnaligned(as: SIMD8<Float>.self) + a8 * UnsafeRawPointer(x + k).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + k).storeBytes(of: sum, as: SIMD8<Float>.self)
        k += 8
      }
    }
    while k < count {
      y[k] += a * x[k * step]
      k += 1
    }
  }
}
