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

  /// R-GAP's step for this layer: its input, from its pre-activation output `z` (`[O, Ho, Wo]`)
  /// and `k = ∂L/∂z`, as the least-squares solution of the weight constraints
  /// `conv(x) + b = z` and the gradient constraints `∂L/∂W[o,c,i,j] = Σ_p k[o,p]·x[c, p·s+(i,j)−pad]`.
  /// The gradient constraints of every input channel share one matrix (rows `(o,i,j)`, columns
  /// the channel's pixels).
  func invert(output z: [Double], outputGradient k: [Double], relativeCutoff: Double) throws(RGAPError) -> (input: [Double], report: RGAPLayerReport) {
    let (c, h, w) = (input[0], input[1], input[2])
    guard c * h * w <= Self.largestSystem else {
      throw .unsupportedLayer(
        name: name, type: "layer of \(c * h * w) inputs",
        reason: "its least-squares system would need \((c * h * w) * (c * h * w) / 131_072) MiB; R-GAP solves at most \(Self.largestSystem) unknowns a layer")
    }
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
