import Foundation
import Tensors

/// What R-GAP found solving one layer: the rank of its system against its unknowns.
public struct RGAPLayerReport: Sendable, Equatable, Codable {
  public var layer: String
  /// The layer's input values (R-GAP's unknowns).
  public var unknowns: Int
  /// Equations after compression: weight constraints plus gradient constraints.
  public var equations: Int
  /// The numerical rank of the system.
  public var rank: Int
  /// The smallest kept singular value over the largest (estimated from the pivots; 0 when the
  /// layer was solved iteratively).
  public var conditioning: Double
  /// Conjugate-gradient steps, when the layer was solved iteratively (a batch); `rank` is then
  /// the count's bound, not a measured rank.
  public var iterations: Int?
  /// How far the iterative solution is from the normal equations (relative).
  public var residual: Double?
  /// The layer's outputs recovered where the activation above it is saturated (a sigmoid within
  /// 1e-5 of 0 or 1): there a single-precision gradient does not pin the pre-activation down.
  public var saturated: Int?

  /// Whether the layer's input is determined (full column rank, no saturated outputs).
  public var determined: Bool { rank >= unknowns && (saturated ?? 0) == 0 }

  public var summary: String {
    if let iterations {
      return "\(layer): rank at most \(rank) of \(unknowns) unknowns by count (\(equations) equations; "
        + "conjugate gradients, \(iterations) steps, residual \(String(format: "%.0e", residual ?? 0)))"
    }
    let c = conditioning > 0 ? String(format: "%.1e", conditioning) : "0"
    let through = (saturated ?? 0) > 0 ? "; \(saturated ?? 0) outputs through a saturated activation" : ""
    return "\(layer): rank \(rank) of \(unknowns) unknowns (\(equations) equations, conditioning ≈ \(c)\(through))"
  }
}

extension LinearStage {
  /// The most unknowns one layer's dense system may have (its normal matrix: 2 GiB).
  static let largestSystem = 16_384

  /// Refuses a layer whose dense system (one image) would exceed `largestSystem` unknowns.
  func checkSize() throws(RGAPError) {
    let n = inputCount
    guard n > Self.largestSystem else { return }
    throw .unsupportedLayer(
      name: name, type: "layer of \(n) inputs",
      reason: "its least-squares system would need \(n * n / 131_072) MiB; R-GAP solves at most \(Self.largestSystem) unknowns a layer")
  }

  /// `∂L/∂input` from `∂L/∂output` (`k`, `[O, Ho, Wo]`): the transposed convolution.
  func inputGradient(_ k: [Double]) -> [Double] {
    let (c, h, w) = (input[0], input[1], input[2])
    let (ho, wo) = outputSize
    var g = [Double](repeating: 0, count: c * h * w)
    forEachTap { o, ci, i, j, py, px, y, x in
      g[(ci * h + y) * w + x] += weight[((o * c + ci) * kernel.0 + i) * kernel.1 + j] * k[(o * ho + py) * wo + px]
    }
    return g
  }

  /// Calls `body(o, c, i, j, py, px, y, x)` for every weight tap that reads an input value
  /// (padding skipped): output `(o, py, px)` reads input `(c, y, x)` through weight `(o, c, i, j)`.
  func forEachTap(_ body: (Int, Int, Int, Int, Int, Int, Int, Int) -> Void) {
    let (c, h, w) = (input[0], input[1], input[2])
    let (ho, wo) = outputSize
    for o in 0..<outputs {
      for ci in 0..<c {
        for i in 0..<kernel.0 {
          for j in 0..<kernel.1 {
            for py in 0..<ho {
              let y = py * stride.0 + i - padding.0
              guard y >= 0 && y < h else { continue }
              for px in 0..<wo {
                let x = px * stride.1 + j - padding.1
                guard x >= 0 && x < w else { continue }
                body(o, ci, i, j, py, px, y, x)
              }
            }
          }
        }
      }
    }
  }

  /// R-GAP's step for this layer: the input of each image, from its pre-activation output
  /// `z[b]` (`[O, Ho, Wo]`) and `k[b] = ∂L/∂z[b]`. The weight constraints `conv(x_b) + bias = z_b`
  /// hold image by image; the gradient constraints
  /// `∂L/∂W[o,c,i,j] = Σ_b Σ_p k_b[o,p]·x_b[c, p·s+(i,j)−pad]` sum over the batch and tie its
  /// images together. One image is solved densely, with its rank measured; a batch iteratively.
  func invert(outputs z: [[Double]], outputGradients k: [[Double]], relativeCutoff: Double) throws(RGAPError) -> (inputs: [[Double]], report: RGAPLayerReport) {
    guard z.count == 1 else { return invertIteratively(outputs: z, outputGradients: k) }
    let solved = try invertDense(output: z[0], outputGradient: k[0], relativeCutoff: relativeCutoff)
    return ([solved.input], solved.report)
  }

  /// One image's step, by dense normal equations: its input, from its pre-activation output `z`
  /// (`[O, Ho, Wo]`) and `k = ∂L/∂z`, as the least-squares solution of the weight constraints
  /// `conv(x) + b = z` and the gradient constraints `∂L/∂W[o,c,i,j] = Σ_p k[o,p]·x[c, p·s+(i,j)−pad]`.
  /// The gradient constraints of every input channel share one matrix (rows `(o,i,j)`, columns
  /// the channel's pixels).
  private func invertDense(output z: [Double], outputGradient k: [Double], relativeCutoff: Double) throws(RGAPError) -> (input: [Double], report: RGAPLayerReport) {
    let (c, h, w) = (input[0], input[1], input[2])
    try checkSize()
    let (ho, wo) = outputSize
    let taps = outputs * kernel.0 * kernel.1
    var correlation = DenseMatrix(rows: taps, columns: h * w)
    var shared = DenseMatrix(rows: taps, columns: c)
    var weights = DenseMatrix(rows: outputCount, columns: c * h * w)
    forEachTap { o, ci, i, j, py, px, y, x in
      let row = (o * kernel.0 + i) * kernel.1 + j
      let tap = ((o * c + ci) * kernel.0 + i) * kernel.1 + j
      if ci == 0 { correlation[row, y * w + x] += k[(o * ho + py) * wo + px] }
      shared[row, ci] = weightGradient[tap]
      weights[(o * ho + py) * wo + px, (ci * h + y) * w + x] += weight[tap]
    }
    balance(&correlation, &shared, against: weights)
    var system = NormalEquations(unknowns: c * h * w)
    for ci in 0..<c {
      system.add(correlation, Array(shared.scalars[(ci * taps)..<((ci + 1) * taps)]), offset: ci * h * w)
    }
    let targets = (0..<outputCount).map { z[$0] - (bias?[$0 / (ho * wo)] ?? 0) }
    system.add(weights, targets)
    let solved: (x: [Double], rank: Int, conditioning: Double)
    do { solved = try system.solve(relativeCutoff: relativeCutoff) } catch { throw .solver(error.description) }
    let report = RGAPLayerReport(
      layer: name, unknowns: system.unknowns, equations: system.equations, rank: solved.rank,
      conditioning: solved.conditioning)
    return (solved.x, report)
  }

  /// The batch's step: the same least squares, solved by conjugate gradients on the system's
  /// products (`BatchLayerSystem`), with no matrix formed. Whether the inputs are determined
  /// is counted: each image's weight constraints give at most `min(outputs, inputs)` and the
  /// gradient constraints at most one per weight.
  private func invertIteratively(outputs z: [[Double]], outputGradients k: [[Double]]) -> (inputs: [[Double]], report: RGAPLayerReport) {
    let system = BatchLayerSystem(stage: self, outputGradients: k)
    let solved = ConjugateGradients.leastSquares(
      unknowns: system.unknowns, target: system.target(outputs: z), apply: system.apply, transposed: system.applyTransposed)
    let bound = Swift.min(system.unknowns, z.count * Swift.min(outputCount, inputCount) + weight.count)
    let report = RGAPLayerReport(
      layer: name, unknowns: system.unknowns, equations: system.equations, rank: bound, conditioning: 0,
      iterations: solved.iterations, residual: solved.normalResidual)
    return (system.images(solved.x), report)
  }

  /// Weighs the gradient constraints (`correlation` for each of the input channels, with
  /// right-hand sides `shared`) to the Frobenius norm of the weight constraints (`weights`).
  /// Left raw, the gradient constraints, whose entries are of the size of `k`, far below the
  /// weights, hardly count, and what the weight constraints leave open is solved from noise:
  /// CNN6 on CIFAR-100 image 0 gave 40.9 dB raw and 100 dB weighed.
  private func balance(_ correlation: inout DenseMatrix, _ shared: inout DenseMatrix, against weights: DenseMatrix) {
    let weightNorm = weights.scalars.reduce(0) { $0 + $1 * $1 }
    let gradientNorm = correlation.scalars.reduce(0) { $0 + $1 * $1 } * Double(input[0])
    guard gradientNorm > 0, weightNorm > 0 else { return }
    let scale = (weightNorm / gradientNorm).squareRoot()
    correlation.scalars = correlation.scalars.map { $0 * scale }
    shared.scalars = shared.scalars.map { $0 * scale }
  }
}

extension Activation {
  /// How many of the values `a` lie where the activation is too flat to invert from
  /// single-precision gradients (its slope below 1e-5).
  func saturatedCount(_ a: [Double]) -> Int {
    switch self {
    case .sigmoid: a.count { $0 * (1 - $0) < 1e-5 }
    case .tanh: a.count { 1 - $0 * $0 < 1e-5 }
    case .leakyRelu, .relu: 0
    }
  }

  /// The pre-activations `z` with `σ(z) = a`, and `σ'(z)`. Values outside the activation's range
  /// (a reconstruction error from the layer above) are pulled just inside it.
  func inverted(_ a: [Double]) -> (z: [Double], slope: [Double]) {
    switch self {
    case .sigmoid:
      let p = a.map { Swift.min(Swift.max($0, 1e-12), 1 - 1e-12) }
      return (p.map { Foundation.log($0 / (1 - $0)) }, p.map { $0 * (1 - $0) })
    case .tanh:
      let t = a.map { Swift.min(Swift.max($0, -1 + 1e-12), 1 - 1e-12) }
      return (t.map { 0.5 * Foundation.log((1 + $0) / (1 - $0)) }, t.map { 1 - $0 * $0 })
    case .leakyRelu:
      return (a.map { $0 < 0 ? $0 / 0.2 : $0 }, a.map { $0 < 0 ? 0.2 : 1 })
    case .relu:
      preconditionFailure("ReLU is refused when the chain is built")
    }
  }
}
