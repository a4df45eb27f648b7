/// One layer's R-GAP equations over a batch, as a product and its transpose instead of a
/// matrix: the weight constraints `conv(x_b)` of every image, then the gradient constraints
/// `scale · Σ_b Σ_p k_b[o,p]·x_b[c, p·s+(i,j)−pad]`, one per weight. A convolution touches each
/// input only through its taps, so a product costs about `4·B` multiply-adds per link (weight
/// tap × output position), a few million for CNN6: far cheaper than the dense normal
/// equations, whose factorisation grows as `(B·C·H·W)³`.
///
/// Inside, values are interleaved image by image (`x[input·B + b]`, rows `output·B + b`), so
/// the batch is the innermost, contiguous loop, and every unknown is scaled by its column's
/// norm (a Jacobi preconditioner: border pixels reach fewer taps than inner ones).
struct BatchLayerSystem {
  let stage: LinearStage
  let batch: Int
  /// The gradient constraints' weight: the two blocks get the same Frobenius norm (as in
  /// `LinearStage.balance`).
  let scale: Double
  /// `k[output·B + b]`: `∂L/∂z` of each image.
  private let k: [Double]
  /// Every (weight tap, output, input) link of the convolution.
  private let links: [(tap: Int32, output: Int32, input: Int32)]
  /// `1/‖column‖` for each unknown (interleaved).
  private let columnScale: [Double]

  var unknowns: Int { batch * stage.inputCount }
  var equations: Int { batch * stage.outputCount + stage.weight.count }

  init(stage: LinearStage, outputGradients kb: [[Double]]) {
    let (batch, m, n) = (kb.count, stage.outputCount, stage.inputCount)
    (self.stage, self.batch) = (stage, batch)
    var k = [Double](repeating: 0, count: m * batch)
    for b in 0..<batch { for o in 0..<m { k[o * batch + b] = kb[b][o] } }
    self.k = k
    var links: [(tap: Int32, output: Int32, input: Int32)] = []
    let (c, h, w) = (stage.input[0], stage.input[1], stage.input[2])
    let (ho, wo) = stage.outputSize
    stage.forEachTap { o, ci, i, j, py, px, y, x in
      let tap = ((o * c + ci) * stage.kernel.0 + i) * stage.kernel.1 + j
      links.append((Int32(tap), Int32((o * ho + py) * wo + px), Int32((ci * h + y) * w + x)))
    }
    self.links = links
    var weightNorm = 0.0, gradientNorm = 0.0
    for l in links {
      weightNorm += stage.weight[Int(l.tap)] * stage.weight[Int(l.tap)] * Double(batch)
      for b in 0..<batch { gradientNorm += k[Int(l.output) * batch + b] * k[Int(l.output) * batch + b] }
    }
    let scale = gradientNorm > 0 && weightNorm > 0 ? (weightNorm / gradientNorm).squareRoot() : 1
    self.scale = scale
    var column = [Double](repeating: 0, count: n * batch)
    for l in links {
      let wv = stage.weight[Int(l.tap)]
      for b in 0..<batch {
        let g = scale * k[Int(l.output) * batch + b]
        column[Int(l.input) * batch + b] += wv * wv + g * g
      }
    }
    columnScale = column.map { $0 > 0 ? 1 / $0.squareRoot() : 0 }
  }

  /// The right-hand sides: each image's `z_b − bias`, then the scaled shared weight gradient.
  func target(outputs z: [[Double]]) -> [Double] {
    let (ho, wo) = stage.outputSize
    var t = [Double](repeating: 0, count: equations)
    for (b, zb) in z.enumerated() {
      for o in zb.indices { t[o * batch + b] = zb[o] - (stage.bias?[o / (ho * wo)] ?? 0) }
    }
    let rows = batch * stage.outputCount
    for (i, g) in stage.weightGradient.enumerated() { t[rows + i] = g * scale }
    return t
  }

  /// The solution image by image, from the solver's (scaled, interleaved) unknowns.
  func images(_ u: [Double]) -> [[Double]] {
    (0..<batch).map { b in (0..<stage.inputCount).map { u[$0 * batch + b] * columnScale[$0 * batch + b] } }
  }

  func apply(_ u: [Double]) -> [Double] {
    var out = [Double](repeating: 0, count: equations)
    let gradientRows = batch * stage.outputCount
    let x = zip(u, columnScale).map(*)
    x.withUnsafeBufferPointer { x in
      k.withUnsafeBufferPointer { k in
        stage.weight.withUnsafeBufferPointer { weight in
          out.withUnsafeMutableBufferPointer { out in
            for l in links {
              let (tap, o, i) = (Int(l.tap), Int(l.output) * batch, Int(l.input) * batch)
              let w = weight[tap]
              var g = 0.0
              for b in 0..<batch {
                out[o + b] += w * x[i + b]
                g += k[o + b] * x[i + b]
              }
              out[gradientRows + tap] += scale * g
            }
          }
        }
      }
    }
    return out
  }

  func applyTransposed(_ y: [Double]) -> [Double] {
    var x = [Double](repeating: 0, count: unknowns)
    let gradientRows = batch * stage.outputCount
    y.withUnsafeBufferPointer { y in
      k.withUnsafeBufferPointer { k in
        stage.weight.withUnsafeBufferPointer { weight in
          x.withUnsafeMutableBufferPointer { x in
            for l in links {
              let (tap, o, i) = (Int(l.tap), Int(l.output) * batch, Int(l.input) * batch)
              let (w, g) = (weight[tap], scale * y[gradientRows + tap])
              for b in 0..<batch { x[i + b] += w * y[o + b] + k[o + b] * g }
            }
          }
        }
      }
    }
    for i in x.indices { x[i] *= columnScale[i] }
    return x
  }
}
