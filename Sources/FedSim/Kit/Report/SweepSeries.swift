import Foundation

/// A sweep's settings read as chart data: each `key=value` label split into the series it
/// belongs to (every key but the last, in a grid) and its x (the last key's value). Numeric
/// when every x is a number; then log-scaled when the positive values span two decades or more.
/// `base` (the file's own setting under `combine: each`) is the reference, drawn apart.
struct SweepSeries {
  struct Point {
    var x: String
    var value: Double?  // the x as a number, when it is one
    var mean: Double
    var std: Double
    var samples: Int
  }

  struct Series {
    var name: String
    var points: [Point]
  }

  var key: String
  var series: [Series]
  var reference: Point?

  /// `metric` of every attacked setting, grouped.
  init(_ settings: [SettingSummary], metric: (SettingSummary) -> SettingSummary.Stat) {
    var order: [String] = []
    var groups: [String: [Point]] = [:]
    var keys = Set<String>()
    for s in settings where s.attacks > 0 {
      let m = metric(s)
      if s.setting == "base" {
        reference = Point(x: "base", value: nil, mean: m.mean, std: m.std, samples: s.attacks)
        continue
      }
      let parts = s.setting.components(separatedBy: ", ")
      let last = parts.last ?? s.setting
      let (k, v) = Self.split(last)
      keys.insert(k)
      // Under `combine: each` the keys differ point to point: each key is its own series.
      let name = parts.count > 1 ? parts.dropLast().joined(separator: ", ") : k
      if groups[name] == nil { order.append(name) }
      groups[name, default: []].append(Point(x: v, value: Double(v), mean: m.mean, std: m.std, samples: s.attacks))
    }
    key = keys.count == 1 ? keys.first ?? "" : ""
    series = order.map { Series(name: $0, points: groups[$0] ?? []) }
  }

  static func split(_ setting: String) -> (String, String) {
    guard let eq = setting.firstIndex(of: "=") else { return (setting, setting) }
    return (String(setting[..<eq]), String(setting[setting.index(after: eq)...]))
  }

  var points: [Point] { series.flatMap(\.points) }
  var isEmpty: Bool { series.isEmpty && reference == nil }

  /// One key, every value a number.
  var isNumeric: Bool { !key.isEmpty && !points.isEmpty && points.allSatisfy { $0.value != nil } }

  /// Numeric, and its positive values span at least two decades.
  var isLogarithmic: Bool {
    let positive = points.compactMap(\.value).filter { $0 > 0 }
    guard isNumeric, let lo = positive.min(), let hi = positive.max() else { return false }
    return hi / lo >= 100
  }

  /// The x axis's title, with its unit.
  var axisTitle: String { Self.titles[key] ?? key.replacingOccurrences(of: "_", with: " ") }

  static let titles = [
    "gaussian_noise": "Gaussian noise σ (added to each gradient value)", "laplace_noise": "Laplace noise scale b",
    "clip": "clipping norm C (L2)", "prune": "fraction of gradient values pruned", "local_batch": "local batch size (images)",
    "dp_noise_multiplier": "DP-SGD noise multiplier z", "epochs": "local epochs", "quantize": "quantisation",
    "attack_method": "attack", "dataset": "dataset", "model": "model", "partition": "partition",
    "fedavg_update": "how the adversary reads a FedAvg update", "attack_start": "where the attack's dummies start",
  ]

  /// The data behind a chart, as CSV.
  func csv(metric: String) -> String {
    var out = "series,\(key.isEmpty ? "setting" : key),\(metric)_mean,\(metric)_std,attacks\n"
    func field(_ s: String) -> String { s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
    if let r = reference { out += "base,base,\(r.mean),\(r.std),\(r.samples)\n" }
    for s in series { for p in s.points { out += "\(field(s.name)),\(field(p.x)),\(p.mean),\(p.std),\(p.samples)\n" } }
    return out
  }
}
