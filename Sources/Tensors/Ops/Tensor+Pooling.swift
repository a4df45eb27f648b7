import CGatherProduct

/// Max pooling over NCHW input. Positions are chosen without recording, then read with
/// `gather`, so the gradient (and its gradient) flows to the chosen elements.
public func maxPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
  precondition(x.rank == 4, "maxPool2d takes NCHW input, got \(x.shape)")
  precondition(padding <= kernel / 2, "maxPool2d: padding must be at most half the kernel")
  let stride = stride ?? kernel
  let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let oh = (h + 2 * padding - kernel) / stride + 1
  let ow = (w + 2 * padding - kernel) / stride + 1
  precondition(oh > 0 && ow > 0, "maxPool2d: kernel larger than input \(x.shape)")
  let idx = TensorStorage(count: n * c * oh * ow)
  let (src, positions) = (x.storage.base, Shared(idx.base))
  Kernels.parallel(n * c, work: n * c * oh * ow * kernel * kernel) { planes in
    for plane in planes {
      let (from, into) = (src + plane * h * w, positions.pointer + plane * oh * ow)
      if Kernels.vectorPooling {
        fedsim_max_positions(
          from, Int32(h), Int32(w), Int32(kernel), Int32(stride), Int32(padding), Int32(oh), Int32(ow), into)
      } else {
        maxPositions(from, size: (h, w), kernel: kernel, stride: stride, padding: padding, out: (oh, ow), into: into)
      }
    }
  }
  let index = Tensor(shape: [n, c, oh * ow], storage: idx)
  return gather(x.reshaped(to: [n, c, h * w]), axis: 2, index: index).reshaped(to: [n, c, oh, ow])
}

extension Kernels {
  /// Whether max pooling finds its positions eight windows at a time (`fedsim_max_positions`,
  /// AVX2), else one at a time below: the same positions either way.
  static let vectorPooling = fedsim_gather_product_available() == 1
}

/// The position of the largest element (the first of equals, the last NaN if any) of each
/// window of one plane, its padding left out, written as floats to `into`.
func maxPositions(
  _ p: UnsafePointer<Float>, size: (Int, Int), kernel: Int, stride: Int, padding: Int, out: (Int, Int),
  into: UnsafeMutablePointer<Float>
) {
  let (h, w) = size
  for i in 0..<out.0 {
    let top = i &* stride &- padding
    let rows = Swift.max(0, top)..<Swift.min(h, top &+ kernel)
    for j in 0..<out.1 {
      let left = j &* stride &- padding
      let columns = Swift.max(0, left)..<Swift.min(w, left &+ kernel)
      let first = rows.lowerBound &* w &+ columns.lowerBound
      var (best, at) = (p[first], first)
      for r in rows {
        for col in columns {
          let v = p[r &* w &+ col]
          let take = v > best || v.isNaN  // as selects, not branches: the data decides them
          best = take ? v : best
          at = take ? r &* w &+ col : at
        }
      }
      into[i &* out.1 &+ j] = Float(at)
    }
  }
}

/// Average pooling over NCHW input, counting padded zeros (PyTorch's default): a depthwise
/// convolution with a constant filter, so it is differentiable to any order.
public func avgPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
  precondition(x.rank == 4, "avgPool2d takes NCHW input, got \(x.shape)")
  let c = x.shape[1]
  let filter = Tensor(repeating: 1 / Float(kernel * kernel), shape: [c, 1, kernel, kernel])
  return conv2d(x, filter: filter, stride: stride ?? kernel, padding: padding, groups: c)
}

/// Adaptive average pooling to `outputSize` (PyTorch's windows: from ⌊i·H/out⌋ to ⌈(i+1)·H/out⌉).
/// Two products with constant pooling matrices, so it is differentiable to any order.
public func adaptiveAvgPool2d(_ x: Tensor, outputSize: (Int, Int)) -> Tensor {
  precondition(x.rank == 4, "adaptiveAvgPool2d takes NCHW input, got \(x.shape)")
  if outputSize == (1, 1) { return x.mean(alongAxes: [2, 3], keepingDims: true) }
  return separable(x, rows: poolingMatrix(x.shape[2], outputSize.0), columns: poolingMatrix(x.shape[3], outputSize.1))
}

/// Resizes NCHW images with the bilinear filter of PIL and of torchvision's antialiased resize:
/// a triangle filter on half-pixel centres whose support widens by the scale when shrinking.
/// Two products with constant matrices, so it is differentiable to any order.
public func resized(_ x: Tensor, height: Int, width: Int) -> Tensor {
  precondition(x.rank == 4 && height > 0 && width > 0, "resized takes NCHW input and a positive size")
  if x.shape[2] == height && x.shape[3] == width { return x }
  return separable(x, rows: bilinearMatrix(x.shape[2], height), columns: bilinearMatrix(x.shape[3], width))
}

/// `rows · X · columnsᵀ` for every image plane X of NCHW `x`.
func separable(_ x: Tensor, rows: Tensor, columns: Tensor) -> Tensor {
  let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let (oh, ow) = (rows.shape[0], columns.shape[0])
  // [N*C*H, W] · columnsᵀ -> [N*C, H, ow] -> [N*C, ow, H] · rowsᵀ -> [N, C, ow, oh] -> NCHW
  let alongW = matmul(x.reshaped(to: [n * c * h, w]), columns, transposeB: true)
  let swapped = alongW.reshaped(to: [n * c, h, ow]).permuted([0, 2, 1]).reshaped(to: [n * c * ow, h])
  let alongH = matmul(swapped, rows, transposeB: true)
  return alongH.reshaped(to: [n, c, ow, oh]).permuted([0, 1, 3, 2])
}

/// The [out, size] matrix that averages PyTorch's adaptive windows.
private func poolingMatrix(_ size: Int, _ out: Int) -> Tensor {
  var m = [Float](repeating: 0, count: out * size)
  for i in 0..<out {
    let lo = (i * size) / out
    let hi = ((i + 1) * size + out - 1) / out
    for k in lo..<hi { m[i * size + k] = 1 / Float(hi - lo) }
  }
  return Tensor(shape: [out, size], scalars: m)
}

/// The [out, size] bilinear (triangle-filter) resampling matrix, as PIL computes its coefficients.
private func bilinearMatrix(_ size: Int, _ out: Int) -> Tensor {
  let scale = Double(size) / Double(out)
  let support = Swift.max(scale, 1)
  var m = [Float](repeating: 0, count: out * size)
  for i in 0..<out {
    let center = (Double(i) + 0.5) * scale
    let lo = Swift.max(0, Int((center - support + 0.5).rounded(.down)))
    let hi = Swift.min(size, Int((center + support + 0.5).rounded(.down)))
    var weights: [Double] = []
    for k in lo..<hi { weights.append(Swift.max(0, 1 - Swift.abs((Double(k) - center + 0.5) / support))) }
    let total = weights.reduce(0, +)
    for (j, wgt) in weights.enumerated() where total > 0 { m[i * size + lo + j] = Float(wgt / total) }
  }
  return Tensor(shape: [out, size], scalars: m)
}
