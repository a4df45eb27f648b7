import Foundation

/// A leakage metric against the swept setting, as inline SVG, in the form the sweep calls for:
/// a line chart on a numeric axis (log-scaled when the values span decades, a setting of 0 —
/// the defense off — drawn in its own slot left of the axis) or a bar chart for categories
/// (attack methods, datasets). Error bars show ± one standard deviation over the attacks when
/// there is more than one; the success threshold is a dashed line; legends sit outside the plot.
struct LeakageChart {
  var data: SweepSeries
  var metric: String  // "PSNR (dB)"
  var threshold: Double?
  /// The metric's largest possible value (SSIM's 1): the axis stops there, error bars too.
  var ceiling: Double?

  /// "PSNR … against Gaussian noise σ …", or "… per setting".
  var title: String {
    let what = metric.components(separatedBy: " (").first ?? metric
    return data.isNumeric ? "\(what) against \(data.axisTitle.components(separatedBy: " (").first ?? "")" : "\(what) per \(data.key.isEmpty ? "setting" : data.axisTitle)"
  }

  static let palette = PrivacyUtilityChart.palette
  static let (width, height, left, right, top, bottom) = (680.0, 340.0, 62.0, 190.0, 30.0, 62.0)
  var plotWidth: Double { Self.width - Self.left - Self.right }
  var plotHeight: Double { Self.height - Self.top - Self.bottom }

  var yAxis: NiceAxis {
    let values = data.points.flatMap { [$0.mean - $0.std, $0.mean + $0.std] } + (data.reference.map { [$0.mean] } ?? [])
    let top = Swift.min(Swift.max(values.max() ?? 1, threshold ?? -.infinity), ceiling ?? .infinity)
    return NiceAxis(low: Swift.min(0, values.min() ?? 0), high: top)
  }

  func render() -> String {
    guard !data.isEmpty else { return "" }
    let y = yAxis
    var s = "<svg xmlns='http://www.w3.org/2000/svg' width='\(Int(Self.width))' height='\(Int(Self.height))' font-size='11' font-family='sans-serif'>"
    s += "<rect width='100%' height='100%' fill='white'/>"
    s += "<text x='\(Self.left)' y='18' font-weight='bold'>\(HTMLReport.escape(title))</text>"
    s += frame(y)
    let (body, legend) = data.isNumeric ? lines(y) : bars(y)
    s += body
    s += references(y)
    s += legendBox(legend)
    return s + "</svg>\n"
  }

  func py(_ v: Double, _ y: NiceAxis) -> Double { Self.top + (1 - y.fraction(v)) * plotHeight }

  /// The plot's frame, y ticks at round values, and the axis titles.
  private func frame(_ y: NiceAxis) -> String {
    var s = "<rect x='\(Self.left)' y='\(Self.top)' width='\(plotWidth)' height='\(plotHeight)' fill='none' stroke='#999'/>"
    for t in y.ticks {
      let yy = py(t, y)
      s += "<line x1='\(Self.left)' x2='\(Self.left + plotWidth)' y1='\(yy)' y2='\(yy)' stroke='#eee'/>"
      s += "<text x='\(Self.left - 5)' y='\(yy + 4)' text-anchor='end'>\(NiceAxis.text(t))</text>"
    }
    s += "<text transform='translate(16,\(Self.top + plotHeight / 2)) rotate(-90)' text-anchor='middle'>\(HTMLReport.escape(metric))</text>"
    let title = data.isNumeric ? data.axisTitle + (data.isLogarithmic ? " — log scale" : "") : (data.key.isEmpty ? "setting" : data.axisTitle)
    s += "<text x='\(Self.left + plotWidth / 2)' y='\(Self.height - 8)' text-anchor='middle'>\(HTMLReport.escape(title))</text>"
    return s
  }

  /// The threshold and the undefended reference, as dashed lines across the plot.
  private func references(_ y: NiceAxis) -> String {
    var s = ""
    if let t = threshold {
      let yy = py(t, y)
      s += "<line class='threshold' x1='\(Self.left)' x2='\(Self.left + plotWidth)' y1='\(yy)' y2='\(yy)' stroke='#d62728' stroke-width='1.5' stroke-dasharray='6 4'/>"
    }
    if let r = data.reference {
      let yy = py(r.mean, y)
      s += "<line class='reference' x1='\(Self.left)' x2='\(Self.left + plotWidth)' y1='\(yy)' y2='\(yy)' stroke='#000' stroke-dasharray='2 3'/>"
    }
    return s
  }

  /// Legend entries (colour, dashed?, text) to the right of the plot.
  private func legendBox(_ entries: [(String, Bool, String)]) -> String {
    var all = entries
    if let t = threshold { all.append(("#d62728", true, "recovered: ≥ \(NiceAxis.text(t)) dB")) }
    if data.reference != nil { all.append(("#000", true, "no defense (base)")) }
    if data.points.contains(where: { $0.samples > 1 }) { all.append(("#555", false, "bars: ± 1 std over the attacks")) }
    var s = ""
    let x = Self.left + plotWidth + 14
    for (i, e) in all.enumerated() {
      let yy = Self.top + 8 + 16 * Double(i)
      s += "<line x1='\(x)' x2='\(x + 18)' y1='\(yy)' y2='\(yy)' stroke='\(e.0)' stroke-width='2'\(e.1 ? " stroke-dasharray='4 3'" : "")/>"
      s += "<text x='\(x + 24)' y='\(yy + 4)'>\(HTMLReport.escape(e.2))</text>"
    }
    return s
  }

  private func errorBar(_ x: Double, _ p: SweepSeries.Point, _ y: NiceAxis, colour: String) -> String {
    guard p.samples > 1, p.std > 0 else { return "" }
    let (a, b) = (py(p.mean - p.std, y), py(Swift.min(p.mean + p.std, ceiling ?? .infinity), y))
    return "<path class='errorbar' d='M\(x),\(a) L\(x),\(b) M\(x - 4),\(a) L\(x + 4),\(a) M\(x - 4),\(b) L\(x + 4),\(b)' stroke='\(colour)' fill='none'/>"
  }
}

extension LeakageChart {
  /// The numeric x axis: where each value sits, and the ticks (value, label).
  struct XAxis {
    var log: Bool
    var linear: NiceAxis?
    var decades: (lo: Double, hi: Double) = (0, 1)
    var hasOff: Bool
    var left: Double, width: Double

    /// The slot for 0 (defense off) on a log axis takes the first 12% of the width.
    var offWidth: Double { log && hasOff ? 0.12 * width : 0 }
    /// Where the log axis begins: a gap after the off slot.
    var logStart: Double { left + offWidth + (hasOff ? 0.08 : 0.04) * (width - offWidth) }

    func position(_ v: Double) -> Double {
      if log {
        if v <= 0 { return left + offWidth / 2 }
        let f = (Foundation.log10(v) - decades.lo) / Swift.max(1e-9, decades.hi - decades.lo)
        return logStart + f * (left + 0.96 * width - logStart)
      }
      return left + (linear?.fraction(v) ?? 0) * width
    }

    var ticks: [(Double, String)] {
      if log {
        let decadesTicks = stride(from: decades.lo, through: decades.hi, by: 1).map { (Foundation.pow(10, $0), NiceAxis.text(Foundation.pow(10, $0))) }
        return (hasOff ? [(0.0, "off (0)")] : []) + decadesTicks
      }
      return (linear?.ticks ?? []).map { ($0, NiceAxis.text($0)) }
    }
  }

  func xAxis() -> XAxis {
    let values = data.points.compactMap(\.value)
    let positive = values.filter { $0 > 0 }
    if data.isLogarithmic, let lo = positive.min(), let hi = positive.max() {
      var axis = XAxis(log: true, hasOff: values.contains { $0 <= 0 }, left: Self.left, width: plotWidth)
      axis.decades = (Foundation.floor(Foundation.log10(lo)), Foundation.ceil(Foundation.log10(hi)))
      return axis
    }
    return XAxis(log: false, linear: NiceAxis(low: values.min() ?? 0, high: values.max() ?? 1), hasOff: false, left: Self.left, width: plotWidth)
  }

  /// One line per series through its points, with error bars.
  func lines(_ y: NiceAxis) -> (String, [(String, Bool, String)]) {
    let x = xAxis()
    var s = ""
    for (v, label) in x.ticks {
      let xx = x.position(v)
      s += "<line x1='\(xx)' x2='\(xx)' y1='\(Self.top + plotHeight)' y2='\(Self.top + plotHeight + 4)' stroke='#999'/>"
      s += "<text class='xtick' x='\(xx)' y='\(Self.top + plotHeight + 17)' text-anchor='middle'>\(HTMLReport.escape(label))</text>"
    }
    if x.offWidth > 0 {  // the axis breaks between the off slot and the log scale
      let (bx, by) = (Self.left + x.offWidth, Self.top + plotHeight)
      s += "<rect x='\(bx - 1)' y='\(by - 4)' width='6' height='8' fill='white'/>"
      s += "<path class='break' d='M\(bx - 3),\(by + 4) L\(bx + 1),\(by - 4) M\(bx + 2),\(by + 4) L\(bx + 6),\(by - 4)' stroke='#666'/>"
    }
    var legend: [(String, Bool, String)] = []
    for (i, series) in data.series.enumerated() {
      let colour = Self.palette[i % Self.palette.count]
      let sorted = series.points.sorted { ($0.value ?? 0) < ($1.value ?? 0) }
      // A log axis has no 0: the off point joins the curve by a dashed segment.
      let off = x.log ? sorted.filter { ($0.value ?? 0) <= 0 } : []
      let on = x.log ? sorted.filter { ($0.value ?? 0) > 0 } : sorted
      let path = on.enumerated().map { String(format: "%@%.1f,%.1f", $0.offset == 0 ? "M" : "L", x.position($0.element.value ?? 0), py($0.element.mean, y)) }
      s += "<path class='series' d='\(path.joined(separator: " "))' fill='none' stroke='\(colour)' stroke-width='1.8'/>"
      if let o = off.last, let first = on.first {
        s += String(format: "<path d='M%.1f,%.1f L%.1f,%.1f' stroke='\(colour)' stroke-dasharray='3 3' fill='none'/>",
          x.position(0), py(o.mean, y), x.position(first.value ?? 0), py(first.mean, y))
      }
      for p in sorted {
        let xx = x.position(p.value ?? 0)
        s += errorBar(xx, p, y, colour: colour)
        s += "<circle cx='\(xx)' cy='\(py(p.mean, y))' r='3.2' fill='\(colour)'><title>\(HTMLReport.escape("\(series.name)=\(p.x): \(NiceAxis.text(p.mean)) ± \(NiceAxis.text(p.std))"))</title></circle>"
      }
      legend.append((colour, false, series.name))
    }
    return (s, data.series.count > 1 ? legend : [])
  }

  /// One bar per setting, grouped by series, with error bars.
  func bars(_ y: NiceAxis) -> (String, [(String, Bool, String)]) {
    let slots = data.points.count + Swift.max(0, data.series.count - 1)
    let slot = plotWidth / Double(Swift.max(1, slots))
    var s = ""
    var i = 0
    var legend: [(String, Bool, String)] = []
    let base = py(Swift.max(0, y.low), y)
    for (g, series) in data.series.enumerated() {
      let colour = Self.palette[g % Self.palette.count]
      for p in series.points {
        let cx = Self.left + (Double(i) + 0.5) * slot
        let top = py(p.mean, y)
        s += "<rect class='bar' x='\(cx - 0.35 * slot)' y='\(Swift.min(top, base))' width='\(0.7 * slot)' height='\(abs(base - top))' fill='\(colour)' fill-opacity='0.8'><title>\(HTMLReport.escape("\(p.x): \(NiceAxis.text(p.mean)) ± \(NiceAxis.text(p.std))"))</title></rect>"
        s += errorBar(cx, p, y, colour: "#333")
        s += "<text class='xtick' x='\(cx)' y='\(Self.top + plotHeight + 15)' text-anchor='middle'>\(HTMLReport.escape(Self.short(p.x)))</text>"
        i += 1
      }
      i += 1
      legend.append((colour, false, series.name))
    }
    return (s, data.series.count > 1 ? legend : [])
  }

  /// A category's label, shortened to what fits under its bar (a dataset path's file name).
  static func short(_ x: String) -> String {
    // A dataset path: its folder names the dataset (../data/cifar-100/test.bin is cifar-100).
    let parts = x.split(separator: "/")
    let name = parts.count >= 2 ? String(parts[parts.count - 2]) : x
    return name.count > 16 ? String(name.prefix(15)) + "…" : name
  }
}
