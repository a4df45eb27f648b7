import Foundation
import Tensors

/// Turning image tensors into pictures.
public enum Pictures {
  /// Image `index` of a batch `[B, C, H, W]` of [0, 1] values as channel-major bytes (values
  /// outside [0, 1] are clamped, as any viewer would).
  public static func bytes(_ batch: Tensor, index: Int) -> [UInt8] {
    let n = batch.shape.dropFirst().reduce(1, *)
    return batch.withScalars { s in
      (0..<n).map { UInt8((Swift.min(Swift.max(s[index * n + $0], 0), 1) * 255).rounded()) }
    }
  }

  /// A grid with one row per batch of images (e.g. ground truth above reconstruction), each
  /// tile enlarged by `scale`.
  public static func grid(rows: [Tensor], scale: Int = 1, columns: Int? = nil) -> [UInt8] {
    let shape = rows[0].shape
    let width = columns ?? rows.map { $0.shape[0] }.max()!
    var grid = ImageGrid(channels: shape[1], height: shape[2], width: shape[3], columns: width, scale: scale)
    for row in rows {
      for i in 0..<row.shape[0] { grid.append(bytes(row, index: i)) }
      for _ in row.shape[0]..<width { grid.appendBlank() }
    }
    return grid.png()
  }
}

extension Pictures {
  /// An animated PNG of a reconstruction emerging: one frame per snapshot (each a batch
  /// `[B, C, H, W]`), the truth above it when known, the last frame held a second.
  public static func timeline(_ snapshots: [Tensor], truth: Tensor? = nil, scale: Int = 2, delay: Double = 0.15) -> [UInt8] {
    precondition(!snapshots.isEmpty, "a timeline needs a snapshot")
    let shape = snapshots[0].shape
    var frames: [[UInt8]] = []
    var size = (0, 0)
    for snapshot in snapshots {
      var grid = ImageGrid(channels: shape[1], height: shape[2], width: shape[3], columns: shape[0], scale: scale)
      for row in (truth.map { [$0] } ?? []) + [snapshot] {
        for b in 0..<row.shape[0] { grid.append(bytes(row, index: b)) }
      }
      let (w, h, px) = grid.pixels()
      size = (w, h)
      frames.append(interleaved(px, channels: shape[1], count: w * h))
    }
    let delays = [Double](repeating: delay, count: frames.count - 1) + [1.5]
    return PNG.encodeAnimation(width: size.0, height: size.1, channels: shape[1], frames: frames, delays: delays)
  }

  static func interleaved(_ channelMajor: [UInt8], channels: Int, count: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: channelMajor.count)
    for c in 0..<channels {
      for i in 0..<count { out[i * channels + c] = channelMajor[c * count + i] }
    }
    return out
  }
}

/// A line chart as a standalone SVG: one panel per quantity, iterations along x, a base-10
/// logarithmic y axis (non-positive and non-finite points leave gaps).
public struct LineChart {
  public struct Panel {
    public var title: String
    public var points: [(x: Double, y: Double)]
    public var colour: String
    public init(title: String, points: [(x: Double, y: Double)], colour: String) {
      (self.title, self.points, self.colour) = (title, points, colour)
    }
  }

  public var panels: [Panel]
  public var xLabel: String
  public init(panels: [Panel], xLabel: String) { (self.panels, self.xLabel) = (panels, xLabel) }

  public func svg(width: Int = 640, panelHeight: Int = 240) -> String {
    let (left, right, top, bottom) = (70.0, 20.0, 28.0, 40.0)
    let height = panels.count * panelHeight
    var out = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" \
      viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="12">
      <rect width="100%" height="100%" fill="white"/>

      """
    for (p, panel) in panels.enumerated() {
      let y0 = Double(p * panelHeight)
      let plotW = Double(width) - left - right
      let plotH = Double(panelHeight) - top - bottom
      let valid = panel.points.filter { $0.y.isFinite && $0.y > 0 && $0.x.isFinite }
      let xMax = Swift.max(1, panel.points.map(\.x).max() ?? 1)
      let logs = valid.map { log10($0.y) }
      var (lo, hi) = (floor(logs.min() ?? 0), ceil(logs.max() ?? 1))
      if hi <= lo { hi = lo + 1 }
      func px(_ x: Double) -> Double { left + x / xMax * plotW }
      func py(_ y: Double) -> Double { y0 + top + (hi - log10(y)) / (hi - lo) * plotH }
      out += "<text x=\"\(left)\" y=\"\(y0 + 18)\" font-weight=\"bold\">\(escape(panel.title))</text>\n"
      out += "<rect x=\"\(left)\" y=\"\(y0 + top)\" width=\"\(plotW)\" height=\"\(plotH)\" fill=\"none\" stroke=\"#999\"/>\n"
      let step = Swift.max(1, Int(ceil((hi - lo) / 6)))
      for e in stride(from: Int(lo), through: Int(hi), by: step) {
        let y = py(pow(10, Double(e)))
        out += "<line x1=\"\(left)\" x2=\"\(left + plotW)\" y1=\"\(y)\" y2=\"\(y)\" stroke=\"#eee\"/>"
        out += "<text x=\"\(left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">1e\(e)</text>\n"
      }
      for k in 0...5 {
        let x = xMax * Double(k) / 5
        out += "<text x=\"\(px(x))\" y=\"\(y0 + top + plotH + 16)\" text-anchor=\"middle\">\(Int(x.rounded()))</text>\n"
      }
      out += "<text x=\"\(left + plotW / 2)\" y=\"\(y0 + Double(panelHeight) - 6)\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
      var path = ""
      var pen = false
      for point in panel.points {
        guard point.y.isFinite, point.y > 0 else {
          pen = false
          continue
        }
        path += String(format: "%@%.2f,%.2f ", pen ? "L" : "M", px(point.x), py(point.y))
        pen = true
      }
      out += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(panel.colour)\" stroke-width=\"1.5\"/>\n"
    }
    return out + "</svg>\n"
  }

  private func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
  }
}
