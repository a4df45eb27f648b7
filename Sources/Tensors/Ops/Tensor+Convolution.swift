/// 2-D convolution (cross-correlation, as PyTorch) of NCHW `input` with OIHW `filter`.
public func conv2d(_ input: Tensor, filter: Tensor, geometry: ConvGeometry) -> Tensor {
  let s = ConvShape(input: input.shape, filter: filter.shape, geometry: geometry)
  if let t = SplitConvolution.split(s) { return SplitConvolution.conv2d(input, filter, s, as: t) }
  let out = TensorStorage(count: Shape.count(s.outputShape))
  Kernels.conv2d(input.storage, filter.storage, s, into: out.base)
  return Tensor.make(.conv2d(geometry), [input, filter], shape: s.outputShape, storage: out)
}

/// 2-D convolution with the usual arguments.
public func conv2d(
  _ input: Tensor, filter: Tensor, stride: Int = 1, padding: Int = 0, groups: Int = 1
) -> Tensor {
  conv2d(
    input, filter: filter,
    geometry: ConvGeometry(stride: (stride, stride), padding: (padding, padding), groups: groups))
}

/// The gradient of `conv2d` with respect to its input, given the output gradient: a transposed
/// convolution. Differentiable in both arguments.
public func conv2dInputGradient(
  _ outputGradient: Tensor, filter: Tensor, geometry: ConvGeometry, inputShape: [Int]
) -> Tensor {
  let s = ConvShape(input: inputShape, filter: filter.shape, geometry: geometry)
  precondition(
    outputGradient.shape == s.outputShape,
    "conv2dInputGradient: gradient \(outputGradient.shape) ≠ output \(s.outputShape)")
  let out = TensorStorage(count: Shape.count(inputShape))
  Kernels.conv2dInputGradient(outputGradient.storage.base, filter.storage, s, into: out.base)
  return Tensor.make(
    .conv2dInputGradient(geometry, inputShape: inputShape), [outputGradient, filter],
    shape: inputShape, storage: out)
}

/// The gradient of `conv2d` with respect to its filter, given the input and the output gradient.
/// Differentiable in both arguments.
public func conv2dFilterGradient(
  _ input: Tensor, _ outputGradient: Tensor, geometry: ConvGeometry, filterShape: [Int]
) -> Tensor {
  let s = ConvShape(input: input.shape, filter: filterShape, geometry: geometry)
  precondition(
    outputGradient.shape == s.outputShape,
    "conv2dFilterGradient: gradient \(outputGradient.shape) ≠ output \(s.outputShape)")
  // The product overwrites every element, except for an empty batch.
  let out = s.n == 0
    ? TensorStorage(count: Shape.count(filterShape), repeating: 0)
    : TensorStorage(count: Shape.count(filterShape))
  Kernels.conv2dFilterGradient(input.storage, outputGradient.storage.base, s, into: out.base)
  return Tensor.make(
    .conv2dFilterGradient(geometry, filterShape: filterShape), [input, outputGradient],
    shape: filterShape, storage: out)
}
