@testable import Tensors
import Testing
import TestSupport

/// The passes split over FedSim's threads (elementwise maps and broadcasts, a channel's planes
/// against its scalars, per-channel sums, products cut into blocks) give at two threads what
/// they give at one, on tensors large enough to be split.
@Suite("Passes split over threads", .serialized)
struct ParallelPassTests {
  /// `body` at one thread and at two: the same elements, or within `tolerance` (relative) for a
  /// product, whose blocks OpenBLAS may sum in another order.
  private func sameAtTwoThreads(
    _ what: String, tolerance: Float = 0, _ body: () -> Tensor, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let hold = BLASThreadsHold(threads: 1)
    defer { hold.release() }
    let one = body()
    BLAS.threads = 2
    // Several times: two threads claim a pass from both ends, so its ranges differ run to run.
    for _ in 0..<4 {
      let two = body()
      #expect(one.shape == two.shape, "\(what): shapes", sourceLocation: sourceLocation)
      let differing = zip(one.scalars, two.scalars).filter { Swift.abs($0 - $1) > tolerance * Swift.max(1, Swift.abs($0)) }.count
      #expect(differing == 0, "\(what): \(differing) of \(one.scalarCount) elements differ", sourceLocation: sourceLocation)
    }
  }

  @Test("a hold on the thread count sets it and, released, puts back the count it found, nested too")
  func threadsHold() {
    let held = BLASThreadsHold()  // the lock is recursive: the holds below are this test's too
    defer { held.release() }
    let start = BLAS.threads
    let outer = BLASThreadsHold(threads: start + 2)
    #expect(BLAS.threads == start + 2)
    let inner = BLASThreadsHold(threads: 1)
    BLAS.threads = start + 4  // a test may set others while it holds
    inner.release()
    #expect(BLAS.threads == start + 2)
    outer.release()
    #expect(BLAS.threads == start)
  }

  @Test("a DLG evaluation of DenseNet-121 with sigmoid at two threads: the same bits every time, however its passes were claimed")
  func sameBitsEveryTime() throws {
    let hold = BLASThreadsHold(threads: 2)
    defer { hold.release() }
    var gen = SeededGenerator(seed: 12)
    let spec = ModelSpec(name: "densenet121", channels: 3, imageSize: 32, classes: 10, activation: .sigmoid)
    let model = try ModelZoo.make(spec, generator: &gen).requiringGradients()
    // Two images: at 32×32 the last block's planes are 1×1, and batch norm over one element
    // passes no gradient.
    let (x, labels) = (Tensor.uniform([2, 3, 32, 32], using: &gen), oneHot([3, 5], classes: 10))
    let target = gradients(of: softCrossEntropy(logits: model(x), targets: labels), wrt: model.parameters)
    let dummy = Tensor.uniform([2, 3, 32, 32], using: &gen)
    let evaluate = { () -> [UInt32] in
      let input = Tensor(shape: dummy.shape, scalars: dummy.scalars).requiringGradient()
      let loss = softCrossEntropy(logits: model(input), targets: labels)
      let g = gradients(of: loss, wrt: model.parameters, createGraph: true)
      let distance = zip(g, target).map { squaredDistance($0, $1) }.reduce(Tensor(0), +)
      return gradients(of: distance, wrt: [input])[0].scalars.map(\.bitPattern)
    }
    let first = evaluate()
    #expect(first.contains { $0 != 0 })
    for run in 1..<3 {
      let again = evaluate()
      let differing = zip(first, again).filter { $0 != $1 }.count
      #expect(differing == 0, "run \(run): \(differing) of \(first.count) elements differ")
    }
  }

  @Test("maps, broadcasts, per-channel sums and products")
  func sameResults() {
    var gen = SeededGenerator(seed: 5)
    let x = Tensor.uniform([2, 24, 37, 41], low: -3, high: 3, using: &gen)  // 72,816 elements: split
    let y = Tensor.uniform([2, 24, 37, 41], low: -3, high: 3, using: &gen)
    let perChannel = Tensor.uniform([1, 24, 1, 1], low: -1, high: 1, using: &gen)
    let a = Tensor.uniform([300, 257], using: &gen)
    let b = Tensor.uniform([257, 190], using: &gen)
    sameAtTwoThreads("sigmoid") { sigmoid(x) }
    sameAtTwoThreads("affine") { x.affine(scale: 0.5, shift: 2) }
    sameAtTwoThreads("product") { x * y }
    sameAtTwoThreads("scalar") { x - Tensor(1.5) }
    sameAtTwoThreads("channel scalars") { x.sliced(starts: [0, 0, 0, 0], ends: [1, 24, 37, 41]) * perChannel }
    sameAtTwoThreads("per-channel sums") { x.sliced(starts: [0, 0, 0, 0], ends: [1, 24, 37, 41]).sum(alongAxes: [0, 2, 3], keepingDims: true) }
    sameAtTwoThreads("squared distance", tolerance: 1e-6) { squaredDistance(x, y) }
    sameAtTwoThreads("sigmoid gradient") { sigmoidGradient(output: sigmoid(x), upstream: y) }
    // Unfolding and folding back, split by channel: a strided 7×7 (phase grids) and a 1×7.
    let image = Tensor.uniform([1, 5, 64, 60], low: -1, high: 1, using: &gen)
    for (filter, stride, padding) in [([8, 5, 7, 7], 2, 3), ([8, 5, 1, 7], 1, 0)] {
      let w = Tensor.uniform(filter, low: -1, high: 1, using: &gen)
      let geometry = ConvGeometry(stride: (stride, stride), padding: (padding, padding))
      let y = conv2d(image, filter: w, geometry: geometry)
      sameAtTwoThreads("unfolded convolution \(filter)", tolerance: 1e-5) {
        // A fresh copy each time: the columns of an input are kept with it.
        conv2d(Tensor(shape: image.shape, scalars: image.scalars), filter: w, geometry: geometry)
      }
      sameAtTwoThreads("folded input gradient \(filter)", tolerance: 1e-5) {
        conv2dInputGradient(y, filter: w, geometry: geometry, inputShape: image.shape)
      }
    }
    sameAtTwoThreads("matrix product, rows", tolerance: 1e-5) { matmul(a, b) }
    sameAtTwoThreads("matrix product, columns", tolerance: 1e-5) { matmul(b.transposed(), a.transposed()) }
  }

  @Test("slices, paddings, concatenations, gathers and scatters: cut over the threads, element for element")
  func copies() {
    var gen = SeededGenerator(seed: 9)
    let x = Tensor.uniform([1, 24, 37, 41], low: -3, high: 3, using: &gen)  // 36,408 elements: split
    let y = Tensor.uniform([1, 20, 37, 41], low: -3, high: 3, using: &gen)
    sameAtTwoThreads("slice") { x.sliced(starts: [0, 2, 1, 3], ends: [1, 23, 37, 40]) }
    sameAtTwoThreads("padding") { x.padded(before: [0, 0, 2, 1], after: [0, 1, 0, 3], value: 0.5) }
    sameAtTwoThreads("concatenation") { concat([x, y], alongAxis: 1) }
    sameAtTwoThreads("max pooling (a gather)") { maxPool2d(x, kernel: 3, stride: 2) }
    let index = Tensor(shape: [1, 24, 400], scalars: (0..<9_600).map { Float(($0 * 7) % (37 * 41)) })
    let source = Tensor.uniform([1, 24, 400], low: -1, high: 1, using: &gen)
    sameAtTwoThreads("scatter-add") {
      scatterAdd(x.reshaped(to: [1, 24, 37 * 41]), axis: 2, index: index, source: source)
    }
    let hold = BLASThreadsHold(threads: 2)
    defer { hold.release() }
    let (xs, ys) = (x.scalars, y.scalars)
    let joined = concat([x, y], alongAxis: 1).scalars
    #expect(joined.count == (24 + 20) * 37 * 41)
    #expect(Array(joined[0..<xs.count]) == xs && Array(joined[xs.count...]) == ys, "concatenation along channels")
    let slice = x.sliced(starts: [0, 2, 1, 3], ends: [1, 23, 37, 40]).scalars
    var expected: [Float] = []
    for c in 2..<23 { for h in 1..<37 { for w in 3..<40 { expected.append(xs[(c * 37 + h) * 41 + w]) } } }
    #expect(slice == expected, "slice element for element")
  }

  @Test("a channel's planes against its scalars: each element is the right one")
  func channelScalars() {
    let hold = BLASThreadsHold(threads: 2)
    defer { hold.release() }
    let x = Tensor(shape: [1, 3, 200, 200], scalars: (0..<120_000).map { Float($0 / 40_000) })  // plane c holds c
    let scale = Tensor(shape: [1, 3, 1, 1], scalars: [10, 20, 30])
    let z = (x * scale).scalars
    #expect(z[0] == 0 && z[39_999] == 0 && z[40_000] == 20 && z[79_999] == 20 && z[80_000] == 60 && z[119_999] == 60)
    let sums = x.sum(alongAxes: [0, 2, 3], keepingDims: true).scalars
    #expect(sums == [0, 40_000, 80_000])
  }
}
