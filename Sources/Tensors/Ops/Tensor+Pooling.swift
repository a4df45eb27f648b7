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
  let src = x.storage.base
  for plane in 0..<(n * c) {
    let p = src + plane * h * w
    for i in 0..<oh {
      for j in 0..<ow {
        var best = -Float.infinity
        var at = -1
        for di in 0..<kernel {
          let r = i * stride - padding + di
          guard r >= 0 && r < h else { continue }
          for dj in 0..<kernel {
            let col = j * stride - padding + dj
            guard col >= 0 && col < w else { continue }
            let v = p[r * w + col]
            if at < 0 || v > best || v.isNaN { (best, at) = (v, r * w + col) }
          }
        }
        idx.base[(plane * oh + i) * ow + j] = Float(at)
      }
    }
  }
  let index = Tensor(shape: [n, c, oh * ow], storage: idx)
  return gather(x.reshaped(to: [n, c, h * w]), axis: 2, index: index).reshaped(to: [n, c, oh, ow])
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
  let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let (oh, ow) = outputSize
  if oh == 1 && ow == 1 { return x.mean(alongAxes: [2, 3], keepingDims: true) }
  // rows: [N*C*H, W] · Pwᵀ[W, ow] -> [N*C, H, ow] -> [N*C, ow, H] · Phᵀ[H, oh] -> [N, C, ow, oh]
  let alongW = matmul(x.reshaped(to: [n * c * h, w]), poolingMatrix(w, ow), transposeB: true)
  let swapped = alongW.reshaped(to: [n * c, h, ow]).permuted([0, 2, 1]).reshaped(to: [n * c * ow, h])
  let alongH = matmul(swapped, poolingMatrix(h, oh), transposeB: true)
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
