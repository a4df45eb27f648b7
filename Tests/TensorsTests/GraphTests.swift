@testable import Tensors
import Testing

@Suite("Autodiff graph")
struct GraphTests {
  @Test("the graph is released when the last tensor referring to it goes")
  func graphIsReleased() {
    weak var firstNode: Node?
    weak var secondOrderNode: Node?
    do {
      var gen = SeededGenerator(seed: 2)
      var model = LeNet(generator: &gen).requiringGradients()
      let x = Tensor.normal([1, 3, 32, 32], using: &gen).requiringGradient()
      let loss = softCrossEntropy(logits: model(x), targets: oneHot([3], classes: 10))
      let g = gradients(of: loss, wrt: model.parameters, createGraph: true)
      let d = g.map { ($0 * $0).sum() }.reduce(Tensor(0), +)
      let gx = gradients(of: d, wrt: [x])[0]
      firstNode = loss.node
      secondOrderNode = d.node
      #expect(firstNode != nil && secondOrderNode != nil)
      #expect(!gx.requiresGradient)
      model = LeNet(generator: &gen)
    }
    #expect(firstNode == nil, "the forward graph outlived its tensors")
    #expect(secondOrderNode == nil, "the create-graph backward outlived its tensors")
  }

  @Test func withoutGradientsRecordsNothing() {
    let x = Tensor([1, 2]).requiringGradient()
    #expect((x * x).requiresGradient)
    #expect(!withoutGradients { x * x }.requiresGradient)
    let y = (x * x * x).sum()
    let inner = withoutGradients { gradients(of: y, wrt: [x], createGraph: true)[0] }
    #expect(inner.requiresGradient, "createGraph records even inside a no-record scope")
    #expect(inner.scalars == [3, 12])
    #expect(!gradients(of: y, wrt: [x])[0].requiresGradient)
  }

  @Test func gradientsOfUnreachedInputsAreZero() {
    let x = Tensor([1, 2]).requiringGradient()
    let y = Tensor([3]).requiringGradient()
    let g = gradients(of: (x * x).sum(), wrt: [x, y])
    #expect(g[0].scalars == [2, 4])
    #expect(g[1].scalars == [0])
  }

  @Test("a gradient used twice accumulates")
  func accumulation() {
    let x = Tensor([3]).requiringGradient()
    let y = x * x + x * 2 + sigmoid(x) * 0
    #expect(gradients(of: y.sum(), wrt: [x])[0].scalars == [8])
  }

  @Test("third derivatives work too")
  func thirdOrder() {
    let x = Tensor([0.5]).requiringGradient()
    let y = x.pow(4).sum()
    let g1 = gradients(of: y, wrt: [x], createGraph: true)[0]
    let g2 = gradients(of: g1.sum(), wrt: [x], createGraph: true)[0]
    let g3 = gradients(of: g2.sum(), wrt: [x])[0]
    #expect(abs(g1.scalar - 0.5) < 1e-6)  // 4x³
    #expect(abs(g2.scalar - 3) < 1e-5)  // 12x²
    #expect(abs(g3.scalar - 12) < 1e-5)  // 24x
  }
}
