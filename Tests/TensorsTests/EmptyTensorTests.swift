@testable import Tensors
import Testing

/// Tensors with a zero dimension (an empty batch): no kernel may touch their buffers. Before,
/// the strided loop ran its innermost run once even over zero rows, so broadcasting a conv
/// bias over an empty batch wrote past a zero-size allocation (found under AddressSanitizer;
/// it is the heap corruption a client with no images caused in a 30-client run).
@Suite("Empty tensors")
struct EmptyTensorTests {
  @Test("the strided loop makes no run over a shape with a zero", arguments: [[0, 6, 28, 28], [6, 0, 4], [3, 4, 0], [0]])
  func noRuns(shape: [Int]) {
    let loop = StridedLoop(shape: shape, strides: [Shape.strides(shape), Shape.strides(shape)])
    var runs = 0
    loop.forEachRun { _, _, _ in runs += 1 }
    #expect(runs == 0)
  }

  @Test("an empty batch goes forward and backward through LeNet, with zero gradients")
  func emptyBatchGradient() throws {
    var g = SeededGenerator(seed: 0)
    let model = try ModelZoo.make(ModelSpec(name: "lenet", channels: 3, imageSize: 32, classes: 10), generator: &g)
    let grads = sharedGradient(model: model, input: Tensor.zeros([0, 3, 32, 32]), targets: Tensor.zeros([0, 10]))
    #expect(grads.count == model.parameters.count)
    #expect(grads.allSatisfy { $0.scalars.allSatisfy { $0 == 0 } })
  }

  @Test("broadcasting, reducing and copying empty tensors give empty results")
  func emptyOps() {
    let x = Tensor.zeros([0, 6, 4, 4])
    let bias = Tensor(shape: [6, 1, 1], scalars: [1, 2, 3, 4, 5, 6])
    #expect((x + bias).shape == [0, 6, 4, 4])
    #expect(x.permuted([1, 0, 2, 3]).shape == [6, 0, 4, 4])
    #expect(x.sum(alongAxes: [0, 2, 3]).scalars == [0, 0, 0, 0, 0, 0])
  }
}
