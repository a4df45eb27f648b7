import Tensors
import TestSupport
import Testing

@Suite("Resize against torchvision")
struct ResizeTests {
  let file = try! SafetensorsFile(contentsOf: SharedData.repositoryRoot + "/Tests/Fixtures/transforms.safetensors")

  @Test("bilinear resize (antialiased) equals torchvision's, up and down", arguments: [(40, 52), (6, 9), (13, 30), (29, 8)])
  func resize(_ size: (Int, Int)) throws {
    let x = try file.tensor("input")
    let y = resized(x, height: size.0, width: size.1)
    let err = relativeError(y, try file.tensor("resize.\(size.0)x\(size.1)"))
    #expect(err < 1e-5, "\(size): relative error \(err)")
  }

  @Test func resizeIsDifferentiable() {
    let errors = GradientCheck().errors({ resized($0[0], height: 5, width: 3) }, at: [Tensor.ones([1, 1, 4, 7])])
    #expect(errors.first < 2e-3 && errors.second < 1e-2)
  }
}
