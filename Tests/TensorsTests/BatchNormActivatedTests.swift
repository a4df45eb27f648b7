@testable import Tensors
import TestSupport
import Testing

/// Batch norm then a sigmoid or a ReLU as one op (`Op.batchNormActivated`), against the two ops
/// it replaces: the same floats forward, and the same gradients through a recorded backward pass
/// and the last, unrecorded one (a DLG objective's double backward), at one thread and at two.
@Suite("Batch norm and its activation as one op", .serialized)
struct BatchNormActivatedTests {
  static let shape = [2, 5, 7, 9]  // planes of 63: runs of eight and a short one
  static let cases: [(Activation, Int)] = [(.sigmoid, 1), (.sigmoid, 2), (.relu, 1), (.relu, 2)]

  static func inputs(seed: UInt64) -> (x: Tensor, weight: Tensor, bias: Tensor, probe: Tensor) {
    var gen = SeededGenerator(seed: seed)
    return (
      Tensor.uniform(shape, low: -3, high: 3, using: &gen), Tensor.uniform([5], low: 0.5, high: 1.5, using: &gen),
      Tensor.uniform([5], low: -0.5, high: 0.5, using: &gen), Tensor.uniform(shape, low: -1, high: 1, using: &gen)
    )
  }

  static func withThreads<R>(_ threads: Int, _ body: () -> R) -> R {
    let hold = BLASThreadsHold(threads: threads)
    defer { hold.release() }
    return body()
  }

  @Test("the same floats as the two ops", arguments: cases)
  func forward(activation: Activation, threads: Int) {
    let (x, w, b, _) = Self.inputs(seed: 41)
    let (fused, apart) = Self.withThreads(threads) {
      (batchNorm(x, weight: w, bias: b, epsilon: 1e-5, then: activation), activation(batchNorm(x, weight: w, bias: b, epsilon: 1e-5)))
    }
    let differing = zip(fused.scalars, apart.scalars).filter { $0.bitPattern != $1.bitPattern }.count
    #expect(differing == 0, "\(differing) of \(x.scalarCount) differ")
  }

  /// The DLG objective's shape on one layer: the gradient of `<probe, y>` with respect to the
  /// weights and input, recorded, its squared distance to a target, differentiated again.
  static func doubleBackward(_ activation: Activation, fused: Bool, seed: UInt64) -> [Tensor] {
    let (x0, w0, b0, probe) = inputs(seed: seed)
    let (x, w, b) = (x0.requiringGradient(), w0.requiringGradient(), b0.requiringGradient())
    let y = fused
      ? batchNorm(x, weight: w, bias: b, epsilon: 1e-5, then: activation)
      : activation(batchNorm(x, weight: w, bias: b, epsilon: 1e-5))
    let first = gradients(of: (y * probe).sum(), wrt: [w, b, x], createGraph: true)
    let distance = first.map { ($0 - 0.25).pow(2).sum() }.reduce(Tensor(0), +)
    return first.map { $0.detached() } + gradients(of: distance, wrt: [x, w, b])
  }

  @Test("first and second gradients equal the two ops'", arguments: cases)
  func gradientsMatch(activation: Activation, threads: Int) {
    let names = ["∂/∂γ", "∂/∂β", "∂/∂x", "∂²/∂x", "∂²/∂γ", "∂²/∂β"]
    let (fused, apart) = Self.withThreads(threads) {
      (Self.doubleBackward(activation, fused: true, seed: 42), Self.doubleBackward(activation, fused: false, seed: 42))
    }
    for (name, (f, a)) in zip(names, zip(fused, apart)) {
      let worst = zip(f.scalars, a.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
      #expect(worst < 1e-5, "\(name): largest relative difference \(worst)")
    }
  }

  @Test("BatchNorm2d then an activation takes the one op by batch statistics, for a sigmoid or a ReLU")
  func layer() {
    var gen = SeededGenerator(seed: 43)
    let norm = BatchNorm2d(5, generator: &gen)
    let x = Self.inputs(seed: 44).x.requiringGradient()
    for a in [Activation.sigmoid, .relu] {
      #expect(withForwardMode(.attack) { norm(x, then: a) }.node?.op == .batchNormActivated(epsilon: 1e-5, a))
      let inference = withForwardMode(.inference) { norm(x, then: a) }
      #expect(inference.scalars == withForwardMode(.inference) { a(norm(x)) }.scalars)
    }
    #expect(withForwardMode(.attack) { norm(x, then: .tanh) }.node?.op == .tanh)
  }
}
