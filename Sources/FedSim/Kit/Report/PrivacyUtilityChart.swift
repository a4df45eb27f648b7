import Foundation

/// Leakage against utility as inline SVG: one curve per defense through its settings, in sweep
/// order, each starting from the undefended run (marked), so how much accuracy a defense costs
/// for each decibel it takes from the attacker reads off one chart.
struct PrivacyUtilityChart {
  struct Point {
    var accuracy: Double  // %
    var psnr: Double  // dB
    var label: String
  }

  struct Curve {
    var name: String
    var points: [Point]
  }

  var curves: [Curve]
  /// The undefended run, when the sweep has one (`base`).
  var undefended: Point?

  static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]

  /// Settings grouped into curves by what they vary: `key=value` settings by key; in a grid,
  /// by every key but the last. A setting without a test accuracy is left out.
  init(_ settings: [SettingSummary]) {
    var order: [String] = []
    var groups: [String: [Point]] = [:]
    for s in settings where s.attacks > 0 {
      guard let accuracy = s.testAccuracy?.mean else { continue }
      if s.setting == "base" {
        undefended = Point(accuracy: 100 * accuracy, psnr: s.psnr.mean, label: "no defense")
        continue
      }
      let parts = s.setting.components(separatedBy: ", ")
      let last = parts.last ?? s.setting
      let (k, v) = SweepSeries.split(last)
      let key = parts.count > 1 ? parts.dropLast().joined(separator: ", ") + ", " + k : k
      if groups[key] == nil { order.append(key) }
      groups[key, default: []].append(Point(accuracy: 100 * accuracy, psnr: s.psnr.mean, label: v))
    }
    curves = order.map { Curve(name: $0, points: groups[$0] ?? []) }
  }

  var isEmpty: Bool { curves.isEmpty && undefended == nil }

  /// Worth drawing: some defense varies, and the accuracy moves (an attack-method or a reading
  /// sweep changes nothing the clients do, and one FedSGD round leaves every point at chance).
  var isInformative: Bool {
    let accuracies = curves.flatMap(\.points).map(\.accuracy) + (undefended.map { [$0.accuracy] } ?? [])
    let attackSide: Set<String> = ["attack_method", "attack_start", "fedavg_update"]
    guard curves.contains(where: { !attackSide.contains($0.name) }), let lo = accuracies.min(), let hi = accuracies.max() else { return false }
    return hi - lo >= 0.1
  }

  func render(width: Double = 640, height: Double = 360) -> String {
    let (left, right, top, bottom) = (60.0, 170.0, 30.0, 45.0)
    let (pw, ph) = (width - left - right, height - top - bottom)
    let all = curves.flatMap(\.points) + (undefended.map { [$0] } ?? [])
    let xAxis = NiceAxis(low: all.map(\.accuracy).min() ?? 0, high: all.map(\.accuracy).max() ?? 100)
    let yAxis = NiceAxis(low: Swift.min(0, all.map(\.psnr).min() ?? 0), high: all.map(\.psnr).max() ?? 1)
    func px(_ v: Double) -> Double { left + xAxis.fraction(v) * pw }
    func py(_ v: Double) -> Double { top + (1 - yAxis.fraction(v)) * ph }
    var s = "<svg xmlns='http://www.w3.org/2000/svg' width='\(Int(width))' height='\(Int(height))' font-size='11' font-family='sans-serif'>"
    s += "<text x='\(left)' y='18' font-weight='bold'>Leakage (PSNR of the reconstruction) against test accuracy, per defense</text>"
    s += "<rect x='\(left)' y='\(top)' width='\(pw)' height='\(ph)' fill='none' stroke='#999'/>"
    for t in xAxis.ticks {
      s += "<line x1='\(px(t))' x2='\(px(t))' y1='\(top + ph)' y2='\(top + ph + 4)' stroke='#999'/>"
      s += "<text x='\(px(t))' y='\(top + ph + 15)' text-anchor='middle'>\(NiceAxis.text(t))</text>"
    }
    for t in yAxis.ticks {
      s += "<line x1='\(left - 4)' x2='\(left)' y1='\(py(t))' y2='\(py(t))' stroke='#999'/>"
      s += "<text x='\(left - 6)' y='\(py(t) + 4)' text-anchor='end'>\(NiceAxis.text(t))</text>"
    }
    s += "<text x='\(left + pw / 2)' y='\(height - 8)' text-anchor='middle'>test accuracy after the last round (%)</text>"
    s += "<text transform='translate(14,\(top + ph / 2)) rotate(-90)' text-anchor='middle'>PSNR (dB), higher leaks more</text>"
    for (k, c) in curves.enumerated() {
      let colour = Self.palette[k % Self.palette.count]
      let path = ((undefended.map { [$0] } ?? []) + c.points).map { "\(px($0.accuracy)),\(py($0.psnr))" }.joined(separator: " ")
      s += "<polyline points='\(path)' fill='none' stroke='\(colour)' stroke-width='1.5'/>"
      for p in c.points {
        s += "<circle cx='\(px(p.accuracy))' cy='\(py(p.psnr))' r='3.5' fill='\(colour)'><title>\(HTMLReport.escape(c.name))=\(HTMLReport.escape(p.label)): \(String(format: "%.1f%%, %.1f dB", p.accuracy, p.psnr))</title></circle>"
        s += "<text x='\(px(p.accuracy) + 5)' y='\(py(p.psnr) - 5)' font-size='9' fill='\(colour)'>\(HTMLReport.escape(p.label))</text>"
      }
      s += "<rect x='\(left + pw + 12)' y='\(top + 16 * Double(k) + 4)' width='10' height='10' fill='\(colour)'/>"
      s += "<text x='\(left + pw + 26)' y='\(top + 16 * Double(k) + 13)'>\(HTMLReport.escape(c.name))</text>"
    }
    if let u = undefended {
      s += "<rect x='\(px(u.accuracy) - 5)' y='\(py(u.psnr) - 5)' width='10' height='10' fill='#000'><title>no defense: \(String(format: "%.1f%%, %.1f dB", u.accuracy, u.psnr))</title></rect>"
      let k = Double(curves.count)
      s += "<rect x='\(left + pw + 12)' y='\(top + 16 * k + 4)' width='10' height='10' fill='#000'/>"
      s += "<text x='\(left + pw + 26)' y='\(top + 16 * k + 13)'>no defense</text>"
    }
    return s + "</svg>\n"
  }
}

/// A linear axis over round ticks (1, 2 or 5 times a power of ten), covering `low...high`.
struct NiceAxis {
  let low: Double, high: Double, step: Double

  init(low: Double, high: Double) {
    var (a, b) = (low, high)
    if b - a < 1e-9 { (a, b) = (a - 1, b + 1) }
    let raw = (b - a) / 5
    let power = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
    self.step = step
    self.low = Foundation.floor(a / step) * step
    self.high = Foundation.ceil(b / step) * step
  }

  var ticks: [Double] { stride(from: low, through: high + step / 2, by: step).map { ($0 / step).rounded() * step } }
  func fraction(_ v: Double) -> Double { (v - low) / (high - low) }
  static func text(_ v: Double) -> String { String(format: "%g", (v * 1e6).rounded() / 1e6) }
}
