@testable import FedSimKit
import Foundation
import Testing

@Suite("report.html's template")
struct ReportTemplateTests {
  static func tile(_ round: Int, recovered: Bool) -> ReportView.Tile {
    .init(
      round: round, client: 0, picture: "data:image/png;base64,AAAA", timeline: round == 1 ? "data:image/png;base64,BBBB" : nil,
      head: "round \(round) · client 0 · dlg", figures: "PSNR 31.0 dB · SSIM 0.900 · labels 3 → 3", recovered: recovered)
  }

  static let view = ReportView(
    title: "<b>noise</b> & co", meta: "2026-12-02, 3 s", repeats: 2, threshold: 30,
    rows: [
      .init(setting: "gaussian_noise=<script>", leakage: .init(psnr: "31.00 ± —", ssim: "0.9", mse: "1e-3", labels: "100%", recovered: "100% of 1", seconds: "1.0"), accuracy: "10.0%", epsilon: "—", roundsFailed: 0, updatesDropped: 0),
      .init(setting: "prune=0.9", leakage: nil, accuracy: "no test set", epsilon: "—", roundsFailed: 1, updatesDropped: 2),
    ],
    leakageCharts: .init(heading: "Leakage against σ", charts: [.init(name: "psnr", svg: "<svg id='chart'></svg>", csv: "x,psnr\n")]),
    tradeOff: nil, distance: "<svg id='distance'></svg>",
    settings: [
      .init(name: "gaussian_noise=<script>", shown: .init(label: "repeat 1", tiles: [tile(1, recovered: true)]), folded: [.init(label: "repeat 2", tiles: [tile(2, recovered: false)])]),
      .init(name: "prune=0.9", shown: nil, folded: []),
    ],
    scenario: "name: \"<x>\"\n")

  @Test("the template fills every field, escapes text and keeps the charts' SVG")
  func fills() throws {
    let html = ReportTemplate.render(Self.view)
    #expect(html.hasPrefix("<!doctype html>") && html.hasSuffix("</html>\n"))
    #expect(!html.contains("{{") && !html.contains("}}"), "a tag left unfilled")
    #expect(!html.contains("<script>") && html.contains("gaussian_noise=&lt;script&gt;"))
    #expect(html.contains("<h1>&lt;b&gt;noise&lt;/b&gt; &amp; co</h1>"))
    #expect(html.contains("<pre>name: &quot;&lt;x&gt;&quot;\n</pre>"))
    #expect(html.contains("<svg id='chart'></svg>") && html.contains("<svg id='distance'></svg>"))
    #expect(!html.contains("Privacy against utility"))
    #expect(html.contains("<tr><td>prune=0.9</td><td>—</td><td>—</td><td>—</td><td>—</td><td>no attack</td>"))
    #expect(html.contains("<td>31.00 ± —</td>") && html.contains("<td>1</td><td>2</td></tr>"))
    #expect(html.contains("download='psnr.csv' href='data:text/csv;base64,\(Data("x,psnr\n".utf8).base64EncodedString())'"))
    // The first repeat shown, the second folded; the recovered one marked; one timeline.
    #expect(html.components(separatedBy: "<figure class=tile>").count - 1 == 2)
    #expect(html.contains("<details><summary>repeat 2</summary>"))
    #expect(html.components(separatedBy: "<b>recovered</b>").count - 1 == 1)
    #expect(html.components(separatedBy: "BBBB").count - 1 == 1)
    #expect(html.contains("Run 2026-12-02, 3 s."))
  }

  @Test("without charts, meta or tiles the page has no empty sections")
  func empty() {
    var view = Self.view
    (view.leakageCharts, view.distance, view.meta) = (nil, nil, nil)
    view.settings = [.init(name: "a", shown: nil, folded: [])]
    let html = ReportTemplate.render(view)
    #expect(!html.contains("<div class=charts>") && !html.contains("Gradient distance") && !html.contains("class=meta"))
    #expect(!html.contains("<div class=tiles>") && html.contains("<h3>a</h3>"))
  }
}
