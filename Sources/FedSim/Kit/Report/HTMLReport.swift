import FedSimCore
import Foundation
import Tensors

/// `report.html`: one self-contained file (every image and chart inline, nothing fetched) with a
/// run's scenario, its leakage-per-setting table, charts, and each setting's picture grid and
/// timelines.
public enum HTMLReport {
  /// Writes `report.html` into the run folder from what the run wrote there.
  @discardableResult
  public static func write(folder: RunFolder) throws(RunFolderError) -> String {
    let design = try folder.readJSON(RunDesign.self, from: RunPlan.designPath(folder))
    let settings = try folder.readJSON([SettingSummary].self, from: folder.summary)
    let file = (try? Data(contentsOf: URL(fileURLWithPath: folder.scenario))).map { String(decoding: $0, as: UTF8.self) } ?? ""
    let html = render(design: design, file: file, settings: settings, folder: folder)
    let attacked = settings.filter { $0.attacks > 0 }
    if !attacked.isEmpty {
      try? FileManager.default.createDirectory(atPath: folder.path + "/charts", withIntermediateDirectories: true)
      for c in leakageCharts(attacked, threshold: design.points.first?.scenario.attack?.threshold ?? 30) {
        try folder.write(Data(c.svg.utf8), to: folder.path + "/charts/\(c.name).svg")
        try folder.write(Data(c.csv.utf8), to: folder.path + "/charts/\(c.name).csv")
      }
    }
    let path = folder.path + "/report.html"
    try folder.write(Data(html.utf8), to: path)
    return path
  }

  static func render(design: RunDesign, file: String, settings: [SettingSummary], folder: RunFolder) -> String {
    let attacked = settings.filter { $0.attacks > 0 }
    var body = "<h1>\(escape(design.name))</h1>\n"
    if let meta = RunMetadata.read(folder) { body += "<p class=meta>Run \(escape(meta.line)).</p>\n" }
    body += "<p>Leakage per defense setting: mean ± std over \(design.repeats) repeat(s) and the attacked updates. "
    body += "Recovered means PSNR ≥ \(Int(design.points.first?.scenario.attack?.threshold ?? 30)) dB.</p>\n"
    body += table(settings)
    if !attacked.isEmpty {
      let threshold = design.points.first?.scenario.attack?.threshold ?? 30
      let charts = Self.leakageCharts(attacked, threshold: threshold)
      let heading = charts.first.map { $0.chart.data.isNumeric ? "Leakage against \($0.chart.data.axisTitle)" : "Leakage per setting" } ?? ""
      body += "<h2>\(escape(heading))</h2>\n<div class=charts>"
      for c in charts {
        body += "<figure>" + c.svg + "<figcaption>" + download(c.name + ".svg", "image/svg+xml", c.svg, "SVG")
          + " · " + download(c.name + ".csv", "text/csv", c.csv, "data (CSV)") + "</figcaption></figure>"
      }
      body += "</div>\n"
      let tradeOff = PrivacyUtilityChart(attacked)
      if tradeOff.isInformative { body += "<h2>Privacy against utility</h2>\n" + tradeOff.render() }
      let curves = distanceCurves(folder: folder, settings: settings)
      if !curves.isEmpty {
        body += "<h2>Gradient distance against iteration</h2>\n"
        body += SVGChart(
          title: "the attack's gradient distance (first repeat, first victim)", xLabels: nil, series: curves, logY: true
        ).render()
      }
    }
    body += "<h2>Reconstructions</h2>\n<p>Each tile: the client's private images (top) above the attack's reconstruction (bottom).</p>\n"
    for (k, setting) in settings.enumerated() {
      body += "<h3>\(escape(setting.setting))</h3>\n"
      for r in 0..<design.repeats {
        let tiles = Self.tiles(folder: folder.point(k, repeat: r), repeat: r, repeats: design.repeats)
        guard !tiles.isEmpty else { continue }
        // The first repeat shown; the others a click away, all in the one file.
        body += r == 0 ? "<div class=tiles>\(tiles)</div>\n" : "<details><summary>repeat \(r + 1)</summary><div class=tiles>\(tiles)</div></details>\n"
      }
    }
    body += "<h2>Scenario</h2>\n<pre>\(escape(file))</pre>\n"
    return """
      <!doctype html>
      <html lang="en"><head><meta charset="utf-8"><title>\(escape(design.name)) — FedSim report</title>
      <style>
      body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
      table{border-collapse:collapse;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
      th:first-child,td:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-size:13px}
      .tiles{display:flex;flex-wrap:wrap;gap:1.2em}.tile img{image-rendering:pixelated;vertical-align:top}.tile figcaption{font-size:12px;margin-top:4px}details{margin:.5em 0}.meta{color:#555;font-size:13px}pre{background:#f6f6f6;padding:1em;overflow:auto}
      </style></head><body>
      \(body)
      </body></html>

      """
  }

  /// Every attacked update of one point's repeat: its picture, captioned with what the attack
  /// got (PSNR, SSIM, labels), and its timeline.
  static func tiles(folder: RunFolder, repeat r: Int, repeats: Int) -> String {
    guard let summary = try? folder.readJSON(RunSummary.self, from: folder.summary) else { return "" }
    var out = ""
    for row in summary.rows {
      guard let png = try? Data(contentsOf: URL(fileURLWithPath: folder.picture(round: row.round, client: row.client))) else { continue }
      let labels = row.trueLabels.map { t in
        "labels " + t.map(String.init).joined(separator: " ") + " → " + (row.recoveredLabels ?? []).map { $0 < 0 ? "?" : String($0) }.joined(separator: " ")
      } ?? String(format: "labels %.0f%% right", 100 * row.labelAccuracy)
      let caption = (repeats > 1 ? "repeat \(r + 1) · " : "") + "round \(row.round) · client \(row.client) · \(row.method)<br>"
        + String(format: "PSNR %.1f dB · SSIM %.3f · ", row.psnr, row.ssim) + labels + (row.success ? " · <b>recovered</b>" : "")
      out += "<figure class=tile><img alt='truth above reconstruction, round \(row.round), client \(row.client)' src='data:image/png;base64,\(png.base64EncodedString())'>"
      if let timeline = try? Data(contentsOf: URL(fileURLWithPath: folder.timeline(round: row.round, client: row.client))) {
        out += " <img alt='the reconstruction emerging' title='the reconstruction emerging, step by step' src='data:image/png;base64,\(timeline.base64EncodedString())'>"
      }
      out += "<figcaption>\(caption)</figcaption></figure>"
    }
    return out
  }

  /// The leakage charts of a sweep (PSNR with its threshold, SSIM), each with its data.
  static func leakageCharts(_ attacked: [SettingSummary], threshold: Double) -> [(name: String, chart: LeakageChart, svg: String, csv: String)] {
    let psnr = LeakageChart(data: SweepSeries(attacked) { $0.psnr }, metric: "PSNR of the reconstruction (dB)", threshold: threshold)
    var ssim = LeakageChart(data: SweepSeries(attacked) { $0.ssim }, metric: "SSIM of the reconstruction", threshold: nil)
    ssim.ceiling = 1
    return [("psnr", psnr, psnr.render(), psnr.data.csv(metric: "psnr")), ("ssim", ssim, ssim.render(), ssim.data.csv(metric: "ssim"))]
  }

  /// A link that downloads `text` as the file `name`, inline (the report fetches nothing).
  static func download(_ name: String, _ type: String, _ text: String, _ label: String) -> String {
    "<a download='\(name)' href='data:\(type);base64,\(Data(text.utf8).base64EncodedString())'>\(label)</a>"
  }

  static func table(_ settings: [SettingSummary]) -> String {
    var t = "<table><tr><th>setting</th><th>PSNR (dB)</th><th>SSIM</th><th>MSE</th><th>label acc.</th><th>recovered</th><th>attack (s)</th><th>test accuracy</th><th>DP ε</th><th>rounds failed</th><th>updates dropped</th></tr>\n"
    for s in settings {
      let eps = s.epsilon.map { String(format: "%.3g", $0) } ?? "—"
      if s.attacks == 0 {
        t += "<tr><td>\(escape(s.setting))</td><td>—</td><td>—</td><td>—</td><td>—</td><td>no attack</td><td>—</td>"
      } else {
        t += String(
          format: "<tr><td>%@</td><td>%@</td><td>%@</td><td>%.3g</td><td>%.0f%%</td><td>%.0f%% of %d</td><td>%@</td>",
          escape(s.setting), s.psnr.text("%.2f"), s.ssim.text("%.4f"), s.mse.mean, 100 * s.labelAccuracy.mean,
          100 * s.successRate, s.attacks, s.attackSeconds.text("%.1f"))
      }
      t += "<td>\(s.accuracyText)</td><td>\(eps)</td><td>\(s.roundsFailed)</td><td>\(s.updatesDropped)</td></tr>\n"
    }
    return t + "</table>\n"
  }

  /// The attack's distance per iteration for the first repeat's first reconstruction of each
  /// setting (the adversary stores it beside the reconstruction).
  static func distanceCurves(folder: RunFolder, settings: [SettingSummary]) -> [(String, String, [Double])] {
    let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
    var curves: [(String, String, [Double])] = []
    for (k, s) in settings.enumerated() {
      let dir = folder.point(k, repeat: 0).reconstructions
      guard let name = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().first,
        let file = try? SafetensorsFile(contentsOf: dir + "/" + name), let history = try? file.tensor("history")
      else { continue }
      let method = file.metadata["method"] ?? ""
      curves.append(("\(s.setting) (\(method))", colours[curves.count % colours.count], history.scalars.map(Double.init)))
    }
    return curves
  }

  static func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "'", with: "&#39;")
  }
}

/// A line chart as inline SVG: categorical x (labels) or iteration x (nil labels), several
/// series, linear or base-10 log y.
struct SVGChart {
  /// "10⁻³" for -3.
  static func power(_ n: Int) -> String {
    let digits: [Character: Character] = ["0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻"]
    return "10" + String(String(n).map { digits[$0] ?? $0 })
  }

  var title: String
  var xLabels: [String]?
  var series: [(name: String, colour: String, values: [Double])]
  var logY = false

  func render(width: Double = 520, height: Double = 300) -> String {
    let (left, right, top, bottom) = (60.0, xLabels == nil ? 20.0 : 90.0, 30.0, xLabels == nil ? 40.0 : 90.0)
    let (pw, ph) = (width - left - right, height - top - bottom)
    let all = series.flatMap(\.values).filter { $0.isFinite && (!logY || $0 > 0) }
    guard !all.isEmpty else { return "" }
    let t = { (v: Double) in logY ? log10(v) : v }
    var (lo, hi) = (all.map(t).min()!, all.map(t).max()!)
    if logY { (lo, hi) = (floor(lo), ceil(hi)) }
    if hi - lo < 1e-9 { (lo, hi) = (lo - 1, hi + 1) }
    if !logY { lo = Swift.min(lo, 0) }
    let n = Swift.max(2, series.map(\.values.count).max()!)
    func x(_ i: Int) -> Double { left + Double(i) / Double(n - 1) * pw }
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
        path += String(format: "%@%.1f,%.1f ", pen ? "L" : "M", x(i), y(v))
        pen = true
      }
      s += "<path d='\(path)' fill='none' stroke='\(se.colour)' stroke-width='1.5'/>"
      if xLabels != nil {
        for (i, v) in se.values.enumerated() where v.isFinite { s += "<circle cx='\(x(i))' cy='\(y(v))' r='3' fill='\(se.colour)'/>" }
      }
      if series.count > 1 {
        s += "<text x='\(left + 8)' y='\(top + 14 + 13 * Double(k))' fill='\(se.colour)'>\(HTMLReport.escape(se.name))</text>"
      }
    }
    return s + "</svg>\n"
  }
}
