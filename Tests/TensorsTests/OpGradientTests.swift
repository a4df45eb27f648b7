import Tensors
import TestSupport
import Testing

/// One differentiable function of a few inputs, for the finite-difference checks.
struct OpCase: Sendable, CustomTestStringConvertible {
  let name: String
  let shapes: [[Int]]
  /// Inputs are drawn uniformly from this range; `awayFromZero` pushes them off kinks at 0.
  var range: (Float, Float) = (-1, 1)
  var awayFromZero = false
  /// Inputs are a shuffled evenly spaced grid over the range, so no two are within a
  /// finite-difference step of each other (for max, sort and pooling, whose kinks are ties).
  var distinct = false
  let f: @Sendable ([Tensor]) -> Tensor

  var testDescription: String { name }

  func inputs() -> [Tensor] {
    var gen = SeededGenerator(seed: UInt64(name.utf8.reduce(0) { $0 &* 31 &+ Int($1) }.magnitude))
    return shapes.map { shape in
      if distinct {
        let n = shape.reduce(1, *)
        var grid = (0..<n).map { range.0 + (range.1 - range.0) * Float($0) / Float(max(n - 1, 1)) }
        grid.shuffle(using: &gen)
        return Tensor(shape: shape, scalars: grid)
      }
      let x = Tensor.uniform(shape, low: range.0, high: range.1, using: &gen)
      return awayFromZero ? x + x.sign() * 0.25 : x
    }
  }
}

let geometry = ConvGeometry(stride: (2, 2), padding: (2, 2))
let fixedIndex = Tensor(shape: [2, 3], scalars: [2, 0, 1, 1, 1, 3])
let opCases: [OpCase] = [
  OpCase(name: "affine", shapes: [[3, 4]]) { $0[0].affine(scale: 1.5, shift: 0.3) },
  OpCase(name: "negate", shapes: [[5]]) { -$0[0] },
  OpCase(name: "exp", shapes: [[3, 4]]) { $0[0].exp() },
  OpCase(name: "log", shapes: [[3, 4]], range: (0.5, 2)) { $0[0].log() },
  OpCase(name: "sqrt", shapes: [[3, 4]], range: (0.5, 2)) { $0[0].sqrt() },
  OpCase(name: "abs", shapes: [[3, 4]], awayFromZero: true) { $0[0].abs() },
  OpCase(name: "pow 3", shapes: [[3, 4]]) { $0[0].pow(3) },
  OpCase(name: "pow 0.5", shapes: [[3, 4]], range: (0.5, 2)) { $0[0].pow(0.5) },
  OpCase(name: "clamp", shapes: [[4, 4]], range: (-2, 2)) { $0[0].clamped(min: -0.9, max: 0.7) },
  OpCase(name: "sigmoid", shapes: [[3, 4]], range: (-3, 3)) { sigmoid($0[0]) },
  OpCase(name: "sigmoid gradient", shapes: [[3, 4], [3, 4]], range: (0.1, 0.9)) {
    sigmoidGradient(output: $0[0], upstream: $0[1])
  },
  OpCase(name: "tanh", shapes: [[3, 4]], range: (-2, 2)) { tanh($0[0]) },
  OpCase(name: "relu", shapes: [[3, 4]], awayFromZero: true) { relu($0[0]) },
  OpCase(name: "leaky relu", shapes: [[3, 4]], awayFromZero: true) { leakyRelu($0[0], slope: 0.2) },
  OpCase(name: "add (broadcast)", shapes: [[2, 3, 4], [3, 1]]) { $0[0] + $0[1] },
  OpCase(name: "subtract (broadcast)", shapes: [[3, 1], [2, 3, 4]]) { $0[0] - $0[1] },
  OpCase(name: "multiply (broadcast)", shapes: [[2, 3, 4], [4]]) { $0[0] * $0[1] },
  OpCase(name: "divide (broadcast)", shapes: [[2, 3, 4], [2, 1, 4]], range: (0.5, 2)) { $0[0] / $0[1] },
  OpCase(name: "scalar rsub and div", shapes: [[6]], range: (0.5, 2)) { (1 - $0[0]) * (2 / $0[0]) },
  OpCase(name: "where", shapes: [[2, 3], [2, 3]]) {
    select(Tensor(shape: [2, 3], scalars: [1, 0, 0, 1, 1, 0]), $0[0] * $0[1], $0[1])
  },
  OpCase(name: "sum axis", shapes: [[2, 3, 4]]) { $0[0].sum(alongAxis: 1) },
  OpCase(name: "sum axes keepdims", shapes: [[2, 3, 4]]) { $0[0].sum(alongAxes: [0, 2], keepingDims: true) },
  OpCase(name: "sum all", shapes: [[2, 3, 4]]) { $0[0].sum() },
  OpCase(name: "mean", shapes: [[2, 3, 4]]) { $0[0].mean(alongAxes: [2]) },
  OpCase(name: "max along axis", shapes: [[3, 5]], distinct: true) { $0[0].max(alongAxis: 1) },
  OpCase(name: "reshape", shapes: [[2, 6]]) { $0[0].reshaped(to: [3, -1]) },
  OpCase(name: "permute", shapes: [[2, 3, 4]]) { $0[0].permuted([2, 0, 1]) },
  OpCase(name: "transpose", shapes: [[3, 5]]) { $0[0].transposed() },
  OpCase(name: "expand", shapes: [[3, 1]]) { $0[0].expanded(to: [2, 3, 4]) },
  OpCase(name: "concat", shapes: [[2, 3], [2, 2]]) { concat([$0[0], $0[1], $0[0]], alongAxis: 1) },
  OpCase(name: "slice", shapes: [[4, 5]]) { $0[0].sliced(starts: [1, 0], ends: [3, 4]) },
  // Three slices of one tensor: the second and third gradients are added where they lie.
  OpCase(name: "overlapping slices", shapes: [[4, 5]]) {
    let x = $0[0]
    return concat(
      [x.sliced(starts: [0, 0], ends: [3, 4]), x.sliced(starts: [1, 1], ends: [4, 5]), x.sliced(starts: [2, 0], ends: [4, 4])],
      alongAxis: 0)
  },
  OpCase(name: "pad", shapes: [[2, 3]]) { $0[0].padded(before: [1, 0], after: [0, 2], value: 0.5) },
  OpCase(name: "flatten", shapes: [[2, 3, 2]]) { $0[0].flattened() },
  OpCase(name: "matmul", shapes: [[3, 4], [4, 2]]) { matmul($0[0], $0[1]) },
  OpCase(name: "matmul aᵀb", shapes: [[4, 3], [4, 2]]) { matmul($0[0], $0[1], transposeA: true) },
  OpCase(name: "matmul abᵀ", shapes: [[3, 4], [2, 4]]) { matmul($0[0], $0[1], transposeB: true) },
  OpCase(name: "matmul aᵀbᵀ", shapes: [[4, 3], [2, 4]]) {
    matmul($0[0], $0[1], transposeA: true, transposeB: true)
  },
  OpCase(name: "conv2d stride 2 pad 2", shapes: [[2, 3, 7, 7], [4, 3, 5, 5]]) {
    conv2d($0[0], filter: $0[1], geometry: geometry)
  },
  OpCase(name: "conv2d 3x3 pad 1", shapes: [[1, 2, 5, 6], [3, 2, 3, 3]]) {
    conv2d($0[0], filter: $0[1], stride: 1, padding: 1)
  },
  OpCase(name: "conv2d groups 2", shapes: [[2, 4, 5, 5], [6, 2, 3, 3]]) {
    conv2d($0[0], filter: $0[1], stride: 1, padding: 1, groups: 2)
  },
  OpCase(name: "conv2d 1x1", shapes: [[2, 3, 4, 4], [5, 3, 1, 1]]) { conv2d($0[0], filter: $0[1]) },
  // Wide enough (17 outputs, 49 tiles) to go as a 3×3 convolution over four shifted inputs.
  OpCase(name: "conv2d 5x5 as 3x3 blocks", shapes: [[1, 4, 14, 14], [17, 4, 5, 5]]) {
    conv2d($0[0], filter: $0[1], stride: 1, padding: 2)
  },
  OpCase(name: "conv2d input gradient", shapes: [[2, 4, 4, 4], [4, 3, 5, 5]]) {
    conv2dInputGradient($0[0], filter: $0[1], geometry: geometry, inputShape: [2, 3, 7, 7])
  },
  OpCase(name: "conv2d filter gradient", shapes: [[2, 3, 7, 7], [2, 4, 4, 4]]) {
    conv2dFilterGradient($0[0], $0[1], geometry: geometry, filterShape: [4, 3, 5, 5])
  },
  OpCase(name: "gather", shapes: [[2, 4]]) { gather($0[0], axis: 1, index: fixedIndex) },
  OpCase(name: "scatter add", shapes: [[2, 4], [2, 3]]) {
    scatterAdd($0[0], axis: 1, index: fixedIndex, source: $0[1] * $0[1])
  },
  OpCase(name: "scatter", shapes: [[2, 4], [2, 3]]) {
    scatter($0[0], axis: 1, index: Tensor(shape: [2, 3], scalars: [2, 0, 1, 1, 3, 0]), source: $0[1])
  },
  OpCase(name: "sort", shapes: [[2, 6]], distinct: true) { $0[0].sorted(alongAxis: 1).values },
  OpCase(name: "max pool", shapes: [[1, 2, 6, 6]], distinct: true) { maxPool2d($0[0], kernel: 3, stride: 2, padding: 1) },
  OpCase(name: "avg pool", shapes: [[1, 2, 6, 6]]) { avgPool2d($0[0], kernel: 2) },
  OpCase(name: "adaptive avg pool 5→3", shapes: [[1, 2, 5, 5]]) {
    adaptiveAvgPool2d($0[0], outputSize: (3, 3))
  },
  OpCase(name: "softmax", shapes: [[2, 5]]) { softmax($0[0]) },
  OpCase(name: "log softmax", shapes: [[2, 5]]) { logSoftmax($0[0], alongAxis: 1) },
  OpCase(name: "mean squared error", shapes: [[3, 4], [3, 4]]) { meanSquaredError($0[0], $0[1]) },
  OpCase(name: "squared distance", shapes: [[3, 4], [3, 4]]) { squaredDistance($0[0], $0[1]) },
  // Batch norm and its two gradient ops, whose rules are written by hand (Tensor+BatchNorm.swift).
  OpCase(name: "batch norm", shapes: [[2, 3, 3, 2], [3], [3]]) {
    batchNorm($0[0], weight: $0[1], bias: $0[2], epsilon: 1e-5)
  },
  OpCase(name: "batch norm then sigmoid, one op", shapes: [[2, 3, 3, 2], [3], [3]]) {
    batchNorm($0[0], weight: $0[1], bias: $0[2], epsilon: 1e-5, then: .sigmoid)
  },
  OpCase(name: "batch norm then ReLU, one op", shapes: [[2, 3, 3, 2], [3], [3]]) {
    batchNorm($0[0], weight: $0[1], bias: $0[2], epsilon: 1e-5, then: .relu)
  },
  OpCase(name: "batch norm input gradient", shapes: [[2, 3, 2, 3], [2, 3, 2, 3], [3]]) {
    batchNormInputGradient($0[0], $0[1], weight: $0[2], epsilon: 1e-5)
  },
  OpCase(name: "batch norm weight gradient", shapes: [[2, 3, 2, 3], [2, 3, 2, 3]]) {
    batchNormWeightGradient($0[0], $0[1], epsilon: 1e-5)
  },
  OpCase(name: "soft cross-entropy", shapes: [[3, 4], [3, 4]]) {
    softCrossEntropy(logits: $0[0], targets: softmax($0[1]))
  },
]

@Suite("Backward rules against finite differences")
struct OpGradientTests {
  /// Each op's result is squared before the check, so the second derivative runs through the
  /// op's backward rule and differentiates it again even for linear ops.
  @Test("first and second derivatives", arguments: opCases)
  func derivatives(_ c: OpCase) {
    let check = GradientCheck()
    let errors = check.errors({ xs in let y = c.f(xs); return y * y }, at: c.inputs())
    #expect(errors.first < 2e-3, "\(c.name): first derivative relative error \(errors.first)")
    #expect(errors.second < 1e-2, "\(c.name): second derivative relative error \(errors.second)")
  }

  @Test("batch norm's gradient-op rules give the same unrecorded (one kernel) as recorded (ops)", arguments: [true, false])
  func fusedBatchNormRule(inputGradient: Bool) {
    var gen = SeededGenerator(seed: 33)
    let shape = [2, 3, 4, 5]
    let (g, x, u) = (
      Tensor.uniform(shape, low: -1, high: 1, using: &gen), Tensor.uniform(shape, low: -2, high: 2, using: &gen),
      Tensor.uniform(shape, low: -1, high: 1, using: &gen)
    )
    let weight = Tensor.uniform([3], low: 0.5, high: 1.5, using: &gen)
    func grads(createGraph: Bool) -> [Tensor] {
      let leaves = [g, x, weight].map { $0.requiringGradient() }
      if inputGradient {
        let loss = (u * batchNormInputGradient(leaves[0], leaves[1], weight: leaves[2], epsilon: 1e-5)).sum()
        return gradients(of: loss, wrt: leaves, createGraph: createGraph)
      }
      let loss = (weight * batchNormWeightGradient(leaves[0], leaves[1], epsilon: 1e-5)).sum()
      return gradients(of: loss, wrt: Array(leaves[0..<2]), createGraph: createGraph)
    }
    for (fused, ops) in zip(grads(createGraph: false), grads(createGraph: true)) {
      let worst = zip(fused.scalars, ops.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
      #expect(worst < 1e-4, "largest relative difference \(worst)")
    }
  }

  @Test("the check itself notices a wrong derivative")
  func checkCanFail() {
    // Detaching one factor of x·x hides half the derivative from the graph.
    let errors = GradientCheck().errors(
      { xs in xs[0].detached() * xs[0] }, at: [Tensor([0.5, -0.7, 1.2])])
    #expect(errors.first > 0.1)
    #expect(errors.second > 0.1)
  }
}
