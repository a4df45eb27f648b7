@testable import Tensors

/// Random input, filters and output gradient of a 3×3 convolution `s` (uniform in [−1, 1], from
/// `seed`), and the unfolded convolution's output and input gradient of them (column matrices
/// and a matrix product, which the PyTorch goldens check): what the Winograd tests compare with.
struct UnfoldedReference {
  let x: Tensor, w: Tensor, gy: Tensor
  let output: TensorStorage
  let inputGradient: TensorStorage

  init(_ s: ConvShape, seed: UInt64) {
    var gen = SeededGenerator(seed: seed)
    x = Tensor.uniform([s.n, s.c, s.h, s.w], low: -1, high: 1, using: &gen)
    w = Tensor.uniform([s.o, s.c, 3, 3], low: -1, high: 1, using: &gen)
    gy = Tensor.uniform(s.outputShape, low: -1, high: 1, using: &gen)
    output = TensorStorage(count: Shape.count(s.outputShape))
    Kernels.unfoldedConv2d(x.storage, w.storage, s, into: output.base)
    inputGradient = TensorStorage(count: x.scalarCount, repeating: -7)
    Kernels.unfoldedConv2dInputGradient(gy.storage.base, w.storage, s, into: inputGradient.base)
  }
}
