/// The closed set of primitive operations the graph records.
///
/// Every op carries only values; its backward rule lives in the one exhaustive switch of
/// `Op.pullback`, written in these same differentiable ops, so gradients of gradients come for free.
/// Everything else (softmax, cross-entropy, pooling, sort, max) is composed from these.
public enum Op: Sendable, Equatable {
  /// A tensor that gradients can be taken with respect to.
  case leaf

  // Elementwise, one input.
  /// `scale * x + shift` (covers negation, scalar addition and scaling).
  case affine(scale: Float, shift: Float)
  case exp, log, sqrt, abs, sigmoid, tanh, relu
  /// `g · y · (1 − y)`, sigmoid's backward fused into one op: inputs are [y, g] with y = σ(x).
  case sigmoidGradient
  /// `g` where `x > 0`, else 0: ReLU's backward fused into one op (one pass, where the mask and
  /// the product took two): inputs are [x, g], x without gradient (the derivative's own is 0).
  case reluGradient
  case leakyRelu(slope: Float)
  /// `x ** exponent` for a constant exponent.
  case power(Float)
  case clamp(min: Float, max: Float)

  // Elementwise, two inputs, NumPy broadcasting.
  case add, subtract, multiply, divide
  /// `where(condition, a, b)`: inputs are [condition, a, b]; the condition has no gradient.
  case select

  // Reductions.
  /// Sum over `axes`, keeping them as size-1 axes when `keepingDims`.
  case sum(axes: [Int], keepingDims: Bool)
  /// `Σ (a − b)²` over all elements, a scalar: inputs [a, b].
  case squaredDistance

  // Shaping.
  case reshape
  case permute([Int])
  /// Broadcast to the output shape.
  case expand
  case concat(axis: Int)
  /// The box `[starts, ends)` of the input.
  case slice(starts: [Int], ends: [Int])
  /// Widen each axis by `before` and `after` elements of `value`.
  case pad(before: [Int], after: [Int], value: Float)
  /// Four copies of an NCHW input stacked along the channels: copy `(a, b)` is the input
  /// zero-padded by `padding` (rows, columns) and shifted by `(3a, 3b)`, `size` rows and columns
  /// (`SplitConvolution`'s input).
  case shiftedStack(padding: [Int], size: [Int])
  /// Its adjoint: the four channel blocks added back where they were read from, into an input of
  /// `shape`.
  case shiftedSum(padding: [Int], shape: [Int])

  // Linear algebra.
  /// `op(a) · op(b)` for rank-2 inputs, `op` transposing where the flag is set.
  case matmul(transposeA: Bool, transposeB: Bool)
  /// NCHW input × OIHW filter.
  case conv2d(ConvGeometry)
  /// The gradient of `conv2d` with respect to its input: inputs are [outputGradient, filter].
  case conv2dInputGradient(ConvGeometry, inputShape: [Int])
  /// The gradient of `conv2d` with respect to its filter: inputs are [input, outputGradient].
  case conv2dFilterGradient(ConvGeometry, filterShape: [Int])

  // Batch normalisation by the batch's own statistics, and its two gradients.
  /// Inputs [x, weight, bias], NCHW x, per-channel weight and bias.
  case batchNorm(epsilon: Float)
  /// `activation(batchNorm(x))` as one op, inputs as `batchNorm`'s, for a sigmoid or a ReLU:
  /// the normalised values are neither written nor kept (the pullbacks read only `x` and the
  /// activation's output, where a ReLU's input and output are positive alike).
  case batchNormActivated(epsilon: Float, Activation)
  /// Its input gradient: inputs [outputGradient, x, weight].
  case batchNormInputGradient(epsilon: Float)
  /// Its weight gradient: inputs [outputGradient, x].
  case batchNormWeightGradient(epsilon: Float)

  // Indexing. Index tensors hold whole numbers and carry no gradient.
  /// `out[i][j][k] = x[i][index[i][j][k]][k]` along `axis` (torch.gather): inputs [x, index].
  case gather(axis: Int)
  /// `base` with `source` added at `index` along `axis`: inputs [base, index, source].
  case scatterAdd(axis: Int)
}

/// Stride, padding and groups of a 2-D convolution.
public struct ConvGeometry: Sendable, Equatable, Hashable {
  public var stride: (Int, Int)
  public var padding: (Int, Int)
  public var groups: Int

  public init(stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), groups: Int = 1) {
    precondition(stride.0 > 0 && stride.1 > 0 && padding.0 >= 0 && padding.1 >= 0 && groups > 0)
    self.stride = stride
    self.padding = padding
    self.groups = groups
  }

  public static func == (a: ConvGeometry, b: ConvGeometry) -> Bool {
    a.stride == b.stride && a.padding == b.padding && a.groups == b.groups
  }

  public func hash(into h: inout Hasher) {
    h.combine(stride.0)
    h.combine(stride.1)
    h.combine(padding.0)
    h.combine(padding.1)
    h.combine(groups)
  }

  /// The spatial output size for an input of `height × width` and a `kh × kw` kernel.
  public func outputSize(height: Int, width: Int, kernel: (Int, Int)) -> (Int, Int) {
    ((height + 2 * padding.0 - kernel.0) / stride.0 + 1,
     (width + 2 * padding.1 - kernel.1) / stride.1 + 1)
  }
}
