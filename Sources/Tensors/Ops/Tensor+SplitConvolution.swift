/// A wide 5×5, stride-1 convolution as one 3×3 convolution over four shifted copies of its input,
/// which Winograd's F(2×2, 3×3) then computes (Inception-v3's 5×5 layers, 48 → 64 channels over
/// 35×35, went unfolded at 65–78 GFLOP/s).
///
/// The filter, padded with a row and a column of zeros to 6×6, is four 3×3 blocks at offsets
/// (3a, 3b), a, b ∈ {0, 1}; the convolution is the sum of the four blocks' 3×3 convolutions, each
/// over the padded input shifted by (3a, 3b). Stacking the four shifted inputs along the channels
/// (and the blocks likewise) makes that sum one 3×3 convolution over 4c channels: 16c
/// multiply-adds an output by Winograd where the direct sum does 25c (1.56× fewer), through
/// kernels that already serve 3×3 layers, with their rounding (F(2×2, 3×3) over 4c channels). The
/// rearrangements are differentiable ops, so the gradients, and the gradients of gradients DLG
/// needs, follow by the 3×3 convolution's own passes.
enum SplitConvolution {
  /// The 3×3 convolution `s` becomes, if it is one Winograd serves and `s` would otherwise go
  /// unfolded (narrow layers keep their direct kernels, and their sums).
  static func split(_ s: ConvShape) -> ConvShape? {
    guard s.kh == 5, s.kw == 5, s.geo.stride == (1, 1), s.geo.groups == 1, s.geo.padding.0 <= 2,
      s.geo.padding.1 <= 2, ConvolutionPath.forward(s) == .unfolded
    else { return nil }
    let t = ConvShape(input: [s.n, 4 * s.c, s.oh + 2, s.ow + 2], filter: [s.o, 4 * s.c, 3, 3], geometry: ConvGeometry())
    return Winograd.servesForward(t) && Winograd.servesFilterGradient(t) ? t : nil
  }

  /// `conv2d(x, w)` for a 5×5 shape `s`, as the 3×3 convolution `t` that `split(s)` gave.
  static func conv2d(_ x: Tensor, _ w: Tensor, _ s: ConvShape, as t: ConvShape) -> Tensor {
    // The filters are the same stack of the 5×5 filter, unpadded, 3×3 a block (zeros past it).
    let input = shiftedStack(x, padding: [s.geo.padding.0, s.geo.padding.1], size: [t.h, t.w])
    return Tensors.conv2d(input, filter: shiftedStack(w, padding: [0, 0], size: [3, 3]), geometry: ConvGeometry())
  }
}

/// Four copies of NCHW `x` stacked along the channels, copy `(a, b)` zero-padded by `padding` and
/// shifted by `(3a, 3b)`, `size` rows and columns each: [n, 4c, size].
func shiftedStack(_ x: Tensor, padding: [Int], size: [Int]) -> Tensor {
  precondition(x.rank == 4 && padding.count == 2 && size.count == 2, "shiftedStack takes NCHW input")
  let shape = [x.shape[0], 4 * x.shape[1], size[0], size[1]]
  let out = TensorStorage(count: Shape.count(shape))
  Kernels.shiftedStack(
    x.storage.base, n: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3], padding: (padding[0], padding[1]),
    size: (size[0], size[1]), into: out.base)
  return Tensor.make(.shiftedStack(padding: padding, size: size), [x], shape: shape, storage: out)
}

/// The adjoint of `shiftedStack`: each of `g`'s four channel blocks added back where it was read
/// from, into a tensor of `shape`.
func shiftedSum(_ g: Tensor, padding: [Int], shape: [Int]) -> Tensor {
  precondition(g.rank == 4 && shape.count == 4 && g.shape[1] == 4 * shape[1], "shiftedSum: \(g.shape) is no stack of \(shape)")
  let out = TensorStorage(count: Shape.count(shape))
  Kernels.shiftedSum(
    g.storage.base, n: shape[0], c: shape[1], h: shape[2], w: shape[3], padding: (padding[0], padding[1]),
    size: (g.shape[2], g.shape[3]), into: out.base)
  return Tensor.make(.shiftedSum(padding: padding, shape: shape), [g], shape: shape, storage: out)
}
