import Foundation

/// A line chart as inline SVG: categorical x (labels) or iteration x (nil labels), several
/// series, linear or base-10 log y.
struct SVGChart {
  /// "10⁻³" for -3.
  static func power(_ n: Int) -> String {
    let digits: [Character: Character] = ["0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻"]
    return "10" + String(String(n).map { digits[$0] ?? $0 })
  }

  /// The series' colours, in order.
  static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]

  var title: String
  var xLabels: [String]?
  var series: [(name: String, colour: String, values: [Double])]
  var logY = false
  /// The iteration of each value, series by series (nil: the value's index).
  var iterations: [[Int]]? = nil

  func render(plotWidth: Double = 440, height: Double = 300) -> String {
    // The legend sits right of the plot, never over the curves (about 6 px a character).
    let legend = series.count > 1 ? 24 + 6 * Double(series.map(\.name.count).max() ?? 0) : 0
    let (left, right, top, bottom) = (60.0, (xLabels == nil ? 20.0 : 90.0) + legend, 30.0, xLabels == nil ? 40.0 : 90.0)
    let width = left + plotWidth + right
    let (pw, ph) = (plotWidth, height - top - bottom)
    let t = { (v: Double) in logY ? log10(v) : v }
    let all = series.flatMap(\.values).filter { $0.isFinite && (!logY || $0 > 0) }.map(t)
    guard var lo = all.min(), var hi = all.max() else { return "" }
    if logY { (lo, hi) = (floor(lo), ceil(hi)) }
    if hi - lo < 1e-9 { (lo, hi) = (lo - 1, hi + 1) }
    if !logY { lo = Swift.min(lo, 0) }
    let n = Swift.max(2, iterations.map { ($0.flatMap { $0 }.max() ?? 0) + 1 } ?? series.map(\.values.count).max() ?? 0)
    func x(_ i: Int) -> Double { left + Double(i) / Double(n - 1) * pw }
    func at(_ k: Int, _ i: Int) -> Int { iterations.map { i < $0[k].count ? $0[k][i] : i } ?? i }
    func y(_ v: Double) -> Double { top + (hi - t(v)) / (hi - lo) * ph }
    var s = "<svg xmlns='http://www.w3.org/2000/svg' width='\(Int(width))' height='\(Int(height))' font-size='11' font-family='sans-serif'>"
    s += "<text x='\(left)' y='18' font-weight='bold'>\(HTMLReport.escape(title))</text>"
    s += "<rect x='\(left)' y='\(top)' width='\(pw)' height='\(ph)' fill='none' stroke='#999'/>"
    // Log: a tick at every decade (every other past eight), labelled 10ⁿ; linear: quarters.
    let ticks: [Double] = logY
      ? Array(stride(from: lo, through: hi, by: hi - lo > 8 ? 2 : 1)) : (0...4).map { lo + (hi - lo) * Double($0) / 4 }
    for v in ticks {
      let yy = top + (hi - v) / (hi - lo) * ph
      let label = logY ? Self.power(Int(v.rounded())) : String(format: "%.3g", v)
      s += "<line x1='\(left)' x2='\(left + pw)' y1='\(yy)' y2='\(yy)' stroke='#eee'/><text class='ytick' x='\(left - 4)' y='\(yy + 4)' text-anchor='end'>\(label)</text>"
    }
    if let labels = xLabels {
      for (i, l) in labels.enumerated() {
        s += "<text transform='translate(\(x(i)),\(top + ph + 8)) rotate(35)' font-size='10'>\(HTMLReport.escape(l))</text>"
      }
    } else {
      for k in 0...4 {
        let i = (n - 1) * k / 4
        s += "<text x='\(x(i))' y='\(top + ph + 14)' text-anchor='middle'>\(i)</text>"
      }
      s += "<text x='\(left + pw / 2)' y='\(height - 6)' text-anchor='middle'>iteration</text>"
    }
    for (k, se) in series.enumerated() {
      var path = ""
      var pen = false
      for (i, v) in se.values.enumerated() {
        guard v.isFinite, !logY || v > 0 else {
          pen = false
          continue
        }
        path += String(format: "%@%.1f,%.1f ", pen ? "L" : "M", x(at(k, i)), y(v))
        pen = true
      }
      s += "<path d='\(path)' fill='none' stroke='\(se.colour)' stroke-width='1.5'/>"
      if xLabels != nil {
        for (i, v) in se.values.enumerated() where v.isFinite { s += "<circle cx='\(x(i))' cy='\(y(v))' r='3' fill='\(se.colour)'/>" }
      }
      if series.count > 1 {
        let (lx, ly) = (left + pw + 14, top + 10 + 15 * Double(k))
        s += "<line x1='\(lx)' x2='\(lx + 14)' y1='\(ly - 4)' y2='\(ly - 4)' stroke='\(se.colour)' stroke-width='2'/>"
        s += "<text x='\(lx + 18)' y='\(ly)'>\(HTMLReport.escape(se.name))</text>"
      }
    }
    return s + "</svg>\n"
  }
}
