import Foundation
import Tensors

/// How much of a private batch a reconstruction gives away, scored against the ground truth
/// (which only the launcher or the CLI holds, never the attack).
public struct LeakageScore: Sendable, Codable, Equatable {
  /// Per-image figures, in ground-truth order, each against the reconstruction assigned to it.
  public struct Image: Sendable, Codable, Equatable {
    public var mse: Double
    public var psnr: Double
    public var ssim: Double
  }

  /// Means over the batch.
  public var mse: Double
  public var psnr: Double
  public var ssim: Double
  /// The fraction of true labels recovered, as multisets (order carries no information).
  public var labelAccuracy: Double
  /// Images at or above the PSNR threshold.
  public var recovered: Int
  /// Whether every image in the batch is at or above the PSNR threshold.
  public var success: Bool
  public var images: [Image]
  /// `assignment[j]` is the reconstruction matched to ground-truth image `j`.
  public var assignment: [Int]

  enum CodingKeys: String, CodingKey {
    case mse, psnr, ssim, recovered, success, images, assignment
    case labelAccuracy = "label_acc"
  }
}

/// Leakage metrics: MSE and PSNR on [0, 1] images, Gaussian-window SSIM (Wang et al. 2004),
/// label accuracy, with batch reconstructions matched to the truth by an optimal assignment.
public enum Leakage {
  /// PSNR is capped here (an exact copy would be infinite, which JSON cannot hold).
  public static let maximumPSNR = 100.0

  /// Scores `reconstruction` against `truth` (both `[B, C, H, W]`, truth in [0, 1]). The
  /// reconstruction is clamped to [0, 1] first, as any picture of it is; reconstructions are
  /// paired with true images by the assignment of least total MSE.
  public static func score(
    reconstruction: Tensor, truth: Tensor, labels: [Int], trueLabels: [Int],
    threshold: Double = 30
  ) -> LeakageScore {
    precondition(reconstruction.shape == truth.shape, "reconstruction \(reconstruction.shape) ≠ truth \(truth.shape)")
    let (b, c, h, w) = (truth.shape[0], truth.shape[1], truth.shape[2], truth.shape[3])
    let (r, t, n) = (clampedScalars(reconstruction), truth.scalars, c * h * w)
    let cost = mseMatrix(r, t, batch: b)
    let assignment = self.assignment(cost: cost)
    let images = (0..<b).map { j in
      let i = assignment[j]
      let e = cost[j][i]
      return LeakageScore.Image(
        mse: e, psnr: psnr(mse: e),
        ssim: ssim(r[(i * n)..<((i + 1) * n)], t[(j * n)..<((j + 1) * n)], channels: c, height: h, width: w))
    }
    let recovered = images.filter { $0.psnr >= threshold }.count
    return LeakageScore(
      mse: images.map(\.mse).mean, psnr: images.map(\.psnr).mean, ssim: images.map(\.ssim).mean,
      labelAccuracy: labelAccuracy(labels, trueLabels), recovered: recovered, success: recovered == b,
      images: images, assignment: assignment)
  }

  /// Each true image's MSE against the reconstruction the optimal assignment gives it (the
  /// reconstruction clamped to [0, 1]); cheap enough to call every iteration.
  public static func matchedMSE(reconstruction: Tensor, truth: Tensor) -> [Double] {
    let cost = mseMatrix(clampedScalars(reconstruction), truth.scalars, batch: truth.shape[0])
    return zip(cost, assignment(cost: cost)).map { $0[$1] }
  }

  /// `assignment[j]`: the reconstruction paired with true image `j` (least total MSE).
  public static func assignment(reconstruction: Tensor, truth: Tensor) -> [Int] {
    assignment(cost: mseMatrix(clampedScalars(reconstruction), truth.scalars, batch: truth.shape[0]))
  }

  private static func clampedScalars(_ x: Tensor) -> [Float] {
    x.scalars.map { $0.isNaN ? 0 : Swift.min(Swift.max($0, 0), 1) }
  }

  /// `cost[j][i]`: the MSE between reconstruction `i` and true image `j`.
  private static func mseMatrix(_ r: [Float], _ t: [Float], batch b: Int) -> [[Double]] {
    let n = t.count / b
    return (0..<b).map { j in
      (0..<b).map { i in mse(r[(i * n)..<((i + 1) * n)], t[(j * n)..<((j + 1) * n)]) }
    }
  }

  public static func mse(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
    precondition(a.count == b.count, "images of \(a.count) and \(b.count) values")
    var s = 0.0
    for (x, y) in zip(a, b) { s += Double(x - y) * Double(x - y) }
    return s / Double(a.count)
  }

  /// `10·log10(1 / mse)` for [0, 1] images, capped at `maximumPSNR`.
  public static func psnr(mse: Double) -> Double {
    mse <= 0 ? maximumPSNR : Swift.min(maximumPSNR, 10 * log10(1 / mse))
  }

  /// The fraction of `truth` found in `labels`, counting repeats (multiset intersection).
  public static func labelAccuracy(_ labels: [Int], _ truth: [Int]) -> Double {
    guard !truth.isEmpty else { return 1 }
    var left = Dictionary(labels.map { ($0, 1) }, uniquingKeysWith: +)
    var hits = 0
    for l in truth where left[l, default: 0] > 0 {
      left[l]! -= 1
      hits += 1
    }
    return Double(hits) / Double(truth.count)
  }

  /// The mean structural similarity of two channel-major images in [0, 1] (Wang et al. 2004):
  /// an 11×11 Gaussian window with σ = 1.5 (smaller, odd, for images under 11 pixels), K₁ = 0.01,
  /// K₂ = 0.03, population (co)variances, over the positions where the window fits, averaged
  /// over channels, as `skimage.metrics.structural_similarity(gaussian_weights=True,
  /// use_sample_covariance=False, data_range=1)` computes it.
  public static func ssim(
    _ a: ArraySlice<Float>, _ b: ArraySlice<Float>, channels: Int, height: Int, width: Int
  ) -> Double {
    var size = Swift.min(11, height, width)
    if size % 2 == 0 { size -= 1 }
    let radius = size / 2
    let window = gaussianWindow(size: size, sigma: 1.5)
    let (c1, c2) = (0.01 * 0.01, 0.03 * 0.03)
    let a = Array(a).map(Double.init), b = Array(b).map(Double.init)
    var total = 0.0
    var count = 0
    for ch in 0..<channels {
      let base = ch * height * width
      for y in radius..<(height - radius) {
        for x in radius..<(width - radius) {
          var (ma, mb, aa, bb, ab) = (0.0, 0.0, 0.0, 0.0, 0.0)
          for dy in -radius...radius {
            let row = base + (y + dy) * width
            let wy = window[dy + radius]
            for dx in -radius...radius {
              let k = wy * window[dx + radius]
              let (p, q) = (a[row + x + dx], b[row + x + dx])
              ma += k * p
              mb += k * q
              aa += k * p * p
              bb += k * q * q
              ab += k * p * q
            }
          }
          let (va, vb, cov) = (aa - ma * ma, bb - mb * mb, ab - ma * mb)
          total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
          count += 1
        }
      }
    }
    return total / Double(count)
  }

  /// A normalised 1-D Gaussian of odd `size` (the 2-D window is its outer product).
  static func gaussianWindow(size: Int, sigma: Double) -> [Double] {
    let r = size / 2
    let g = (-r...r).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
    let s = g.reduce(0, +)
    return g.map { $0 / s }
  }

  /// The assignment of rows to columns with least total cost (Hungarian algorithm, O(n³)):
  /// `result[row]` is the column given to `row`.
  /// A non-finite cost (a NaN image) counts as worse than any finite one, so the search ends.
  public static func assignment(cost raw: [[Double]]) -> [Int] {
    let n = raw.count
    guard n > 0 else { return [] }
    precondition(raw.allSatisfy { $0.count == n }, "the cost matrix must be square")
    let worst = raw.joined().filter(\.isFinite).map(abs).max() ?? 0
    let cost = raw.map { row in row.map { $0.isFinite ? $0 : 2 * worst + 1 } }
    // Potentials u (rows) and v (columns), 1-based with a virtual column 0.
    var u = [Double](repeating: 0, count: n + 1)
    var v = [Double](repeating: 0, count: n + 1)
    var owner = [Int](repeating: 0, count: n + 1)  // owner[column] = row (1-based), 0 = free
    var way = [Int](repeating: 0, count: n + 1)
    for row in 1...n {
      owner[0] = row
      var column = 0
      var minimum = [Double](repeating: .infinity, count: n + 1)
      var used = [Bool](repeating: false, count: n + 1)
      repeat {
        used[column] = true
        let r = owner[column]
        var delta = Double.infinity
        var next = 0
        for j in 1...n where !used[j] {
          let reduced = cost[r - 1][j - 1] - u[r] - v[j]
          if reduced < minimum[j] { (minimum[j], way[j]) = (reduced, column) }
          if minimum[j] < delta { (delta, next) = (minimum[j], j) }
        }
        for j in 0...n {
          if used[j] {
            u[owner[j]] += delta
            v[j] -= delta
          } else {
            minimum[j] -= delta
          }
        }
        column = next
      } while owner[column] != 0
      repeat {
        let previous = way[column]
        owner[column] = owner[previous]
        column = previous
      } while column != 0
    }
    var result = [Int](repeating: 0, count: n)
    for j in 1...n { result[owner[j] - 1] = j - 1 }
    return result
  }
}

extension [Double] {
  fileprivate var mean: Double { isEmpty ? 0 : reduce(0, +) / Double(count) }
}
