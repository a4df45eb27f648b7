/// Where channel block `block` (0…3) of a shifted stack reads its input: row `r` of the block reads
/// input row `r + rows`, column `j` input column `j + columns` (`SplitConvolution`).
struct StackShift {
  let rows: Int, columns: Int

  init(block: Int, padding: (Int, Int)) {
    (rows, columns) = (3 * (block / 2) - padding.0, 3 * (block % 2) - padding.1)
  }

  /// The output columns `lo..<hi` that read inside an input `width` wide.
  func span(width: Int, columns count: Int) -> Range<Int> {
    let lo = Swift.min(Swift.max(0, -columns), count)
    return lo..<Swift.max(lo, Swift.min(count, width - columns))
  }
}

extension Kernels {
  /// `Op.shiftedStack`: `x` [n, c, h, w] into `y` [n, 4c, size], block-major along the channels.
  static func shiftedStack(
    _ x: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int, padding: (Int, Int), size: (Int, Int),
    into y: UnsafeMutablePointer<Float>
  ) {
    let (rows, cols, y) = (size.0, size.1, Shared(y))
    parallel(n * 4 * c, work: n * 4 * c * rows * cols) { planes in
      for plane in planes {
        let (image, rest) = plane.quotientAndRemainder(dividingBy: 4 * c)
        let (block, channel) = rest.quotientAndRemainder(dividingBy: c)
        let shift = StackShift(block: block, padding: padding)
        let span = shift.span(width: w, columns: cols)
        let source = x + (image * c + channel) * h * w + shift.columns
        for r in 0..<rows {
          let line = y.pointer + (plane * rows + r) * cols
          let at = r + shift.rows
          guard at >= 0, at < h, !span.isEmpty else { line.initialize(repeating: 0, count: cols); continue }
          line.initialize(repeating: 0, count: span.lowerBound)
          (line + span.lowerBound).update(from: source + at * w + span.lowerBound, count: span.count)
          (line + span.upperBound).initialize(repeating: 0, count: cols - span.upperBound)
        }
      }
    }
  }

  /// `Op.shiftedSum`, the adjoint: `g` [n, 4c, size] added back into `x` [n, c, h, w], overwriting.
  static func shiftedSum(
    _ g: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int, padding: (Int, Int), size: (Int, Int),
    into x: UnsafeMutablePointer<Float>
  ) {
    let (rows, cols, x) = (size.0, size.1, Shared(x))
    parallel(n * c, work: n * 4 * c * rows * cols) { planes in
      for plane in planes {
        let (image, channel) = plane.quotientAndRemainder(dividingBy: c)
        let target = x.pointer + plane * h * w
        target.initialize(repeating: 0, count: h * w)
        for block in 0..<4 {
          let shift = StackShift(block: block, padding: padding)
          let span = shift.span(width: w, columns: cols)
          let source = g + ((image * 4 + block) * c + channel) * rows * cols
          for r in 0..<rows where r + shift.rows >= 0 && r + shift.rows < h {
            let (from, to) = (source + r * cols, target + (r + shift.rows) * w + shift.columns)
            for j in span { to[j] += from[j] }
          }
        }
      }
    }
  }
}
