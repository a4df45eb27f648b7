import Tensors
import TestSupport
import Testing

/// Direct-loop convolution, the definition, to check the im2col + sgemm kernels against.
func naiveConv(_ x: Tensor, _ w: Tensor, stride: Int, padding: Int, groups: Int) -> Tensor {
  let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let (o, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
  let oh = (h + 2 * padding - kh) / stride + 1
  let ow = (wd + 2 * padding - kw) / stride + 1
  let xs = x.scalars, ws = w.scalars
  var out = [Float](repeating: 0, count: n * o * oh * ow)
  let og = o / groups
  for b in 0..<n {
    for oc in 0..<o {
      let g = oc / og
      for i in 0..<oh {
        for j in 0..<ow {
          var acc: Float = 0
          for ic in 0..<cg {
            for p in 0..<kh {
              for q in 0..<kw {
                let r = i * stride - padding + p, s = j * stride - padding + q
                guard r >= 0 && r < h && s >= 0 && s < wd else { continue }
                acc += xs[((b * c + g * cg + ic) * h + r) * wd + s] * ws[((oc * cg + ic) * kh + p) * kw + q]
              }
            }
          }
          out[((b * o + oc) * oh + i) * ow + j] = acc
        }
      }
    }
  }
  _ = c
  return Tensor(shape: [n, o, oh, ow], scalars: out)
}

@Suite("Forward values")
struct ForwardTests {
  @Test(
    "conv2d equals the direct definition",
    arguments: [
      (1, 3, 32, 32, 12, 5, 2, 2, 1), (2, 12, 16, 16, 12, 5, 2, 2, 1), (2, 12, 8, 8, 12, 5, 1, 2, 1),
      (1, 4, 7, 5, 6, 3, 1, 1, 2), (3, 3, 6, 6, 8, 1, 1, 0, 1), (1, 4, 9, 9, 4, 3, 3, 0, 4),
      (1, 2, 5, 5, 3, 5, 1, 0, 1),
    ])
  func convolution(
    _ c: (n: Int, c: Int, h: Int, w: Int, o: Int, k: Int, stride: Int, padding: Int, groups: Int)
  ) {
    var gen = SeededGenerator(seed: 11)
    let x = Tensor.normal([c.n, c.c, c.h, c.w], using: &gen)
    let w = Tensor.normal([c.o, c.c / c.groups, c.k, c.k], using: &gen)
    let y = conv2d(x, filter: w, stride: c.stride, padding: c.padding, groups: c.groups)
    let expected = naiveConv(x, w, stride: c.stride, padding: c.padding, groups: c.groups)
    #expect(y.shape == expected.shape)
    #expect(relativeError(y, expected) < 1e-5)
  }

  @Test("the convolution gradients are the adjoints of conv2d")
  func convolutionAdjoints() {
    // <gy, conv(x, w)> = <convInputGradient(gy, w), x> = <convFilterGradient(x, gy), w>
    var gen = SeededGenerator(seed: 5)
    let geo = ConvGeometry(stride: (2, 1), padding: (1, 2), groups: 2)
    let x = Tensor.normal([2, 4, 7, 6], using: &gen)
    let w = Tensor.normal([6, 2, 3, 4], using: &gen)
    let y = conv2d(x, filter: w, geometry: geo)
    let gy = Tensor.normal(y.shape, using: &gen)
    let t = (gy * y).sum().scalar
    let viaInput = (conv2dInputGradient(gy, filter: w, geometry: geo, inputShape: x.shape) * x).sum().scalar
    let viaFilter = (conv2dFilterGradient(x, gy, geometry: geo, filterShape: w.shape) * w).sum().scalar
    #expect(abs(viaInput - t) < 1e-3 * abs(t))
    #expect(abs(viaFilter - t) < 1e-3 * abs(t))
  }

  @Test func matmulAndTransposes() {
    let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let b = Tensor(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12])
    #expect(matmul(a, b).scalars == [58, 64, 139, 154])
    #expect(matmul(b, a, transposeA: true, transposeB: true).scalars == [58, 139, 64, 154])
    #expect(a.transposed().scalars == [1, 4, 2, 5, 3, 6])
    #expect(a.permuted([1, 0]).shape == [3, 2])
  }

  @Test func broadcastingAndReductions() {
    let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let row = Tensor([10, 20, 30])
    let col = Tensor(shape: [2, 1], scalars: [100, 200])
    #expect((a + row).scalars == [11, 22, 33, 14, 25, 36])
    #expect((a * col).scalars == [100, 200, 300, 800, 1000, 1200])
    #expect((row + col).shape == [2, 3])
    #expect(a.sum(alongAxis: 0).scalars == [5, 7, 9])
    #expect(a.sum(alongAxis: 1, keepingDims: true).shape == [2, 1])
    #expect(a.sum().scalar == 21)
    #expect(a.mean(alongAxes: [1]).scalars == [2, 5])
    #expect(a.max(alongAxis: 1).scalars == [3, 6])
    #expect(a.argmax(alongAxis: 0).scalars == [1, 1, 1])
    #expect((a .> 3).scalars == [0, 0, 0, 1, 1, 1])
    #expect(select(a .> 3, a, -a).scalars == [-1, -2, -3, 4, 5, 6])
    #expect(a.clamped(min: 2, max: 5).scalars == [2, 2, 3, 4, 5, 5])
  }

  @Test func shaping() {
    let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    #expect(a.reshaped(to: [3, -1]).shape == [3, 2])
    #expect(a.sliced(starts: [0, 1], ends: [2, 3]).scalars == [2, 3, 5, 6])
    #expect(a.padded(before: [0, 1], after: [1, 0]).scalars == [0, 1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0])
    #expect(concat([a, a], alongAxis: 1).scalars == [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
    #expect(concat([a, a], alongAxis: 0).shape == [4, 3])
    #expect(Tensor([1, 2]).reshaped(to: [2, 1]).expanded(to: [2, 2]).scalars == [1, 1, 2, 2])
  }

  @Test func indexingAndSorting() {
    let x = Tensor(shape: [2, 4], scalars: [3, 1, 4, 1, 5, 9, 2, 6])
    let (values, indices) = x.sorted(alongAxis: 1)
    #expect(values.scalars == [1, 1, 3, 4, 2, 5, 6, 9])
    #expect(indices.scalars == [1, 3, 0, 2, 2, 0, 3, 1])  // stable: ties keep their order
    #expect(x.sorted(alongAxis: 1, descending: true).values.scalars == [4, 3, 1, 1, 9, 6, 5, 2])
    let idx = Tensor(shape: [2, 2], scalars: [3, 0, 1, 1])
    #expect(gather(x, axis: 1, index: idx).scalars == [1, 3, 9, 9])
    let added = scatterAdd(.zeros([2, 4]), axis: 1, index: idx, source: Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
    #expect(added.scalars == [2, 0, 0, 1, 0, 7, 0, 0])
    let replaced = scatter(x, axis: 1, index: Tensor(shape: [2, 1], scalars: [2, 0]), source: .zeros([2, 1]))
    #expect(replaced.scalars == [3, 1, 0, 1, 0, 9, 2, 6])
  }

  /// Long lanes take the radix path: the order must equal a plain stable sort's, with ties,
  /// signed zeros, infinities and NaN (last) in the mix, ascending and descending.
  @Test(arguments: [false, true]) func longLaneSortIsStable(descending: Bool) {
    var gen = SeededGenerator(seed: 3)
    var values = (0..<5000).map { _ in Float(Int.random(in: -300...300, using: &gen)) / 7 }
    values[10] = .nan
    values[11] = -.infinity
    values[12] = .infinity
    values[13] = -0.0
    values[14] = .nan
    let x = Tensor(shape: [1, values.count], scalars: values)
    let order = x.sorted(alongAxis: 1, descending: descending).indices.scalars.map { Int($0) }
    let expected = values.indices.sorted { p, q in
      let (a, b) = (values[p], values[q])
      if a.isNaN || b.isNaN { return !a.isNaN && b.isNaN || (a.isNaN == b.isNaN && p < q) }
      if a == b { return p < q }
      return descending ? a > b : a < b
    }
    #expect(order == expected)
  }

  /// Continuous values (short runs after the coarse radix passes, finished by insertion) and
  /// values packed within a relative 1e-5 (one long run: the insertion budget runs out and a
  /// comparison sort finishes) sort as a plain stable sort does.
  @Test(arguments: [1.0, 1e-5]) func longLaneSortOfCloseValues(spread: Double) {
    var gen = SeededGenerator(seed: 8)
    let values = (0..<20_000).map { _ in Float(1 + spread * Double.random(in: -1...1, using: &gen)) }
    let x = Tensor(shape: [values.count], scalars: values)
    let order = x.sorted().indices.scalars.map { Int($0) }
    #expect(order == values.indices.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) })
    let target = Tensor(shape: [values.count], scalars: values.map { $0 * 2 }.sorted())
    let aligned = x.rankAligned(target).scalars
    #expect(order.indices.allSatisfy { aligned[order[$0]] == target.scalars[$0] })
  }

  @Test func pooling() {
    let x = Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map(Float.init))
    #expect(maxPool2d(x, kernel: 2).scalars == [5, 7, 13, 15])
    #expect(avgPool2d(x, kernel: 2).scalars == [2.5, 4.5, 10.5, 12.5])
    #expect(maxPool2d(x, kernel: 3, stride: 2, padding: 1).scalars == [5, 7, 13, 15])
    // PyTorch's adaptive windows for 4 → 3: [0,2), [1,3), [2,4).
    let a = adaptiveAvgPool2d(x, outputSize: (3, 3))
    #expect(a.scalars == [2.5, 3.5, 4.5, 6.5, 7.5, 8.5, 10.5, 11.5, 12.5])
    #expect(adaptiveAvgPool2d(x, outputSize: (1, 1)).scalars == [7.5])
  }

  @Test func softmaxIsStableAndNormalised() {
    let x = Tensor(shape: [2, 3], scalars: [1000, 1001, 1002, -5, 0, 5])
    let p = softmax(x)
    #expect(p.scalars.allSatisfy { $0.isFinite })
    #expect(relativeError(p.sum(alongAxis: 1), Tensor([1, 1])) < 1e-6)
    #expect(relativeError(logSoftmax(x).exp(), p) < 1e-6)
    #expect(abs(meanSquaredError(Tensor([1, 2, 3]), Tensor([1, 0, 0])).scalar - 13.0 / 3) < 1e-6)
    let loss = crossEntropy(logits: Tensor(shape: [1, 2], scalars: [0, 0]), labels: [1])
    #expect(abs(loss.scalar - 0.6931472) < 1e-6)
  }

  @Test("ReLU's gradient passes the upstream where the input is positive, else 0, as PyTorch's threshold_backward")
  func reluGradientMasks() {
    let x = Tensor(shape: [6], scalars: [-1, 0, 2, .nan, 1e-30, 3])
    let g = Tensor(shape: [6], scalars: [.nan, 5, 3, 4, -2, .infinity])
    let got = reluGradient(input: x, upstream: g).scalars
    #expect(got[0] == 0 && got[1] == 0 && got[2] == 3 && got[3] == 0 && got[4] == -2 && got[5] == .infinity, "\(got)")
    // Through autodiff, to the second order: the first gradient of Σ relu(x)·w with respect to x
    // is w masked, and its gradient with respect to w is the mask.
    let v = Tensor([-1, 2, 0.5]).requiringGradient()
    let w = Tensor([3, 4, 5]).requiringGradient()
    let first = gradients(of: (relu(v) * w).sum(), wrt: [v], createGraph: true)[0]
    #expect(first.scalars == [0, 4, 5])
    #expect(gradients(of: first.sum(), wrt: [w])[0].scalars == [0, 1, 1])
  }
}

@Suite("Seeded random numbers")
struct RandomTests {
  @Test("SplitMix64 gives its published stream")
  func splitMixStream() {
    var gen = SeededGenerator(seed: 0)
    #expect(gen.next() == 0xE220_A839_7B1D_CDAF)
    #expect(gen.next() == 0x6E78_9E6A_A1B9_65F4)
    #expect(gen.next() == 0x06C4_5D18_8009_454F)
  }

  @Test("the same seed gives the same tensors; uniform and normal have the right moments")
  func distributions() {
    var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
    #expect(Tensor.normal([100], using: &a).scalars == Tensor.normal([100], using: &b).scalars)
    var g = SeededGenerator(seed: 1)
    let u = Tensor.uniform([100_000], low: -0.5, high: 0.5, using: &g).scalars
    #expect(u.allSatisfy { $0 >= -0.5 && $0 < 0.5 })
    #expect(abs(u.reduce(0, +) / Float(u.count)) < 0.01)
    let n = Tensor.normal([100_000], using: &g).scalars
    let mean = n.reduce(0, +) / Float(n.count)
    let variance = n.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(n.count)
    #expect(abs(mean) < 0.02)
    #expect(abs(variance - 1) < 0.02)
  }
}
