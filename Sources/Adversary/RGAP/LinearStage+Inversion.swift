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
  /// The smallest kept singular value over the largest (estimated from the pivots).
  public var conditioning: Double

  /// Whether the layer's input is determined (full column rank).
  public var determined: Bool { rank >= unknowns }

  public var summary: String {
    let c = conditioning > 0 ? String(format: "%.1e", conditioning) : "0"
    return "\(layer): rank \(rank) of \(unknowns) unknowns (\(equations) equations, conditioning ≈ \(c))"
  }
}

extension LinearStage {
  /// The most unknowns one layer's dense system may have (its normal matrix: 2 GiB).
  static let largestSystem = 16_384

  /// Refuses a layer whose system for `batch` images would exceed `largestSystem` unknowns.
  func checkSize(batch: Int) throws(RGAPError) {
    let n = inputCount
    guard batch * n > Self.largestSystem else { return }
    throw .unsupportedLayer(
      name: name, type: "layer of \(n) inputs" + (batch > 1 ? " an image, \(batch) images" : ""),
      reason: "its least-squares system would need \((batch * n) * (batch * n) / 131_072) MiB; R-GAP solves at most \(Self.largestSystem) unknowns a layer")
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

  /// R-GAP's step for this layer: the input of each image of a batch, from its pre-activation
  /// output `z[b]` (`[O, Ho, Wo]`) and `k[b] = ∂L/∂z[b]`, as the least-squares solution of the
  /// weight constraints `conv(x[b]) + bias = z[b]` (one block per image) and the gradient
  /// constraints `∂L/∂W[o,c,i,j] = Σ_b Σ_p k[b][o,p]·x[b][c, p·s+(i,j)−pad]`, which tie the
  /// images together. The gradient constraints of input channel `c` form one matrix (rows
  /// `(o,i,j)`, columns channel `c`'s pixels of every image).
  func invert(outputs z: [[Double]], outputGradients k: [[Double]], relativeCutoff: Double) throws(RGAPError) -> (inputs: [[Double]], report: RGAPLayerReport) {
    let (c, h, w) = (input[0], input[1], input[2])
    let (batch, n, plane) = (z.count, c * h * w, h * w)
    try checkSize(batch: batch)
    let (ho, wo) = outputSize
    let taps = outputs * kernel.0 * kernel.1
    var correlation = DenseMatrix(rows: taps, columns: batch * plane)
    var shared = DenseMatrix(rows: taps, columns: c)
    var weights = DenseMatrix(rows: outputCount, columns: n)
    forEachTap { o, ci, i, j, py, px, y, x in
      let row = (o * kernel.0 + i) * kernel.1 + j
      let tap = ((o * c + ci) * kernel.0 + i) * kernel.1 + j
      if ci == 0 {
        for b in 0..<batch { correlation[row, b * plane + y * w + x] += k[b][(o * ho + py) * wo + px] }
      }
      shared[row, ci] = weightGradient[tap]
      weights[(o * ho + py) * wo + px, (ci * h + y) * w + x] += weight[tap]
    }
    balance(&correlation, &shared, against: weights, batch: batch)
    var system = NormalEquations(unknowns: batch * n)
    for ci in 0..<c {
      let columns: [Int] = (0..<batch).flatMap { (b: Int) -> Range<Int> in
        let first = b * n + ci * plane
        return first..<(first + plane)
      }
      system.add(correlation, Array(shared.scalars[(ci * taps)..<((ci + 1) * taps)]), columns: columns)
    }
    for b in 0..<batch {
      system.add(weights, (0..<outputCount).map { z[b][$0] - (bias?[$0 / (ho * wo)] ?? 0) }, offset: b * n)
    }
    let solved: (x: [Double], rank: Int, conditioning: Double)
    do { solved = try system.solve(relativeCutoff: relativeCutoff) } catch { throw .solver(error.description) }
    let report = RGAPLayerReport(
      layer: name, unknowns: system.unknowns, equations: system.equations, rank: solved.rank,
      conditioning: solved.conditioning)
    return ((0..<batch).map { Array(solved.x[($0 * n)..<(($0 + 1) * n)]) }, report)
  }

  /// Weighs the gradient constraints (`correlation` for each of the input channels, with
  /// right-hand sides `shared`) to the Frobenius norm of the weight constraints (`weights`
  /// for each image). Left raw, the gradient constraints, whose entries are of the size of
  /// `k`, far below the weights, hardly count, and what the weight constraints leave open is
  /// solved from noise: CNN6 at batch 2 gave 28 dB raw and 94 dB weighed.
  private func balance(_ correlation: inout DenseMatrix, _ shared: inout DenseMatrix, against weights: DenseMatrix, batch: Int) {
    let weightNorm = weights.scalars.reduce(0) { $0 + $1 * $1 } * Double(batch)
    let gradientNorm = correlation.scalars.reduce(0) { $0 + $1 * $1 } * Double(input[0])
    guard gradientNorm > 0, weightNorm > 0 else { return }
    let scale = (weightNorm / gradientNorm).squareRoot()
    correlation.scalars = correlation.scalars.map { $0 * scale }
    shared.scalars = shared.scalars.map { $0 * scale }
  }
}

extension Activation {
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
