import Mustache

/// `report.html`'s page and its tiles as Mustache templates, filled from a `ReportView`. Every
/// `{{name}}` is HTML-escaped by the template; only the charts' SVG (FedSim's own drawing) goes in
/// unescaped, as `{{{svg}}}`.
enum ReportTemplate {
  static let page = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>{{title}} — FedSim report</title>
    <style>
    body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
    table{border-collapse:collapse;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td{white-space:nowrap}
    th:first-child,td:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-size:13px}
    .tiles{display:flex;flex-wrap:wrap;gap:1.2em}.tile img{image-rendering:pixelated;vertical-align:top}.tile figcaption{font-size:12px;margin-top:4px}details{margin:.5em 0}.strip{margin:.4em 0}.strip img{max-width:100%;image-rendering:pixelated}.strip figcaption{font-size:13px}.meta{color:#555;font-size:13px}pre{background:#f6f6f6;padding:1em;overflow:auto}
    </style></head><body>
    <h1>{{title}}</h1>
    {{#meta}}<p class=meta>Run {{.}}.</p>{{/meta}}
    <p>Leakage per defense setting: mean ± std over {{repeats}} repeat(s) and the attacked updates. Recovered means PSNR ≥ {{threshold}} dB.</p>
    <table><tr><th>setting</th><th>PSNR (dB)</th><th>SSIM</th><th>MSE</th><th>label acc.</th><th>recovered</th><th>attack (s)</th><th>test accuracy</th><th>DP ε</th><th>rounds failed</th><th>updates dropped</th></tr>
    {{#rows}}<tr><td>{{setting}}</td>{{#leakage}}<td>{{psnr}}</td><td>{{ssim}}</td><td>{{mse}}</td><td>{{labels}}</td><td>{{recovered}}</td><td>{{seconds}}</td>{{/leakage}}{{^leakage}}<td>—</td><td>—</td><td>—</td><td>—</td><td>no attack</td><td>—</td>{{/leakage}}<td>{{accuracy}}</td><td>{{epsilon}}</td><td>{{roundsFailed}}</td><td>{{updatesDropped}}</td></tr>
    {{/rows}}</table>
    {{#leakageCharts}}<h2>{{heading}}</h2>
    <div class=charts>{{#charts}}<figure>{{{svg}}}<figcaption><a download='{{name}}.svg' href='{{svgHref}}'>SVG</a> · <a download='{{name}}.csv' href='{{csvHref}}'>data (CSV)</a></figcaption></figure>{{/charts}}</div>{{/leakageCharts}}
    {{#tradeOff}}<h2>Privacy against utility</h2>
    {{{.}}}{{/tradeOff}}
    {{#distance}}<h2>Gradient distance against iteration</h2>
    {{{.}}}{{/distance}}
    {{#evolution}}<h2>How the reconstruction emerges</h2>
    <p>First repeat, first attacked update: the private image, then the reconstruction at the steps named (the nearest snapshots).</p>
    {{#strips}}<figure class=strip><figcaption><b>{{setting}}</b> · truth, then steps {{steps}}</figcaption><img alt='the reconstruction of {{setting}} at steps {{steps}}' src='{{picture}}'></figure>
    {{/strips}}{{{mse}}}{{/evolution}}
    <h2>Reconstructions</h2>
    <p>Each tile: the client's private images (top) above the attack's reconstruction (bottom).</p>
    {{#settings}}<h3>{{name}}</h3>
    {{#shown}}<div class=tiles>{{#tiles}}{{> tile}}{{/tiles}}</div>{{/shown}}
    {{#folded}}<details><summary>{{label}}</summary><div class=tiles>{{#tiles}}{{> tile}}{{/tiles}}</div></details>
    {{/folded}}{{/settings}}
    <h2>Scenario</h2>
    <pre>{{scenario}}</pre>
    </body></html>

    """

  static let tile = """
    <figure class=tile><img alt='truth above reconstruction, round {{round}}, client {{client}}' src='{{picture}}'>\
    {{#timeline}} <img alt='the reconstruction emerging' title='the reconstruction emerging, step by step' src='{{.}}'>{{/timeline}}\
    <figcaption>{{head}}<br>{{figures}}{{#recovered}} · <b>recovered</b>{{/recovered}}</figcaption></figure>
    """

  /// The page and its partial, parsed once.
  static let library: Result<MustacheLibrary, Error> = Result {
    var library = MustacheLibrary()
    try library.register(page, named: "report")
    try library.register(tile, named: "tile")
    return library
  }

  /// The page filled from `view`.
  static func render(_ view: ReportView) -> String {
    switch library {
    case .success(let library):
      return library.render(view, withTemplate: "report") ?? "<!doctype html><p>the report's template is missing</p>"
    case .failure(let error):
      return "<!doctype html><p>the report's template does not parse: \(error)</p>"
    }
  }
}
