import FedSimCore

extension ScenarioFile {
  /// One swept key: its name, and for each value its text and how it changes the file.
  struct Axis {
    var name: String
    var values: [(text: String, apply: (inout ScenarioFile) -> Void)]
  }

  /// The sweep's grid in order, each point a file with no sweep left (the file alone, labelled
  /// `base`, when it has none). An empty list of values is an error, not an empty run.
  func expanded(source: String) throws(ScenarioError) -> [(label: String, file: ScenarioFile)] {
    var base = self
    base.sweep = nil
    guard let w = sweep else { return [("base", base)] }
    let axes = axes(w)
    for axis in axes where axis.values.isEmpty {
      throw .invalid(source: source, key: "sweep.\(axis.name)", reason: "lists no values")
    }
    guard !axes.isEmpty else { return [("base", base)] }
    if w.combine == .each {
      return [("base", base)] + axes.flatMap { axis in
        axis.values.map { v in
          var f = base
          v.apply(&f)
          return ("\(axis.name)=\(v.text)", f)
        }
      }
    }
    var points: [(label: String, file: ScenarioFile)] = [("", base)]
    for axis in axes {
      points = points.flatMap { p in
        axis.values.map { v in
          var f = p.file
          v.apply(&f)
          let setting = "\(axis.name)=\(v.text)"
          return (p.label.isEmpty ? setting : p.label + ", " + setting, f)
        }
      }
    }
    return points
  }

  /// A model sweep's value: its keys over the file's model section, its local batch and its
  /// attack budget.
  static func choose(_ c: ModelChoice, _ f: inout ScenarioFile) {
    f.model = c.model.overlaid(on: f.model ?? ModelSection())
    if let b = c.localBatch { Self.edit(&f.federation, ScenarioFile.FederationSection()) { $0.localBatch = b } }
    if let n = c.iterations, f.attack != nil { Self.edit(&f.attack, AttackSection()) { $0.iterations = n } }
  }

  private func axes(_ w: Sweep) -> [Axis] {
    var axes: [Axis] = []
    if let paths = w.dataset {
      axes.append(Axis(name: "dataset", values: paths.map { v in (Self.datasetName(v), { f in Self.edit(&f.dataset, DatasetSection()) { $0.path = v } }) }))
    }
    if let parts = w.partition {
      axes.append(Axis(name: "partition", values: parts.map { v in (v, { f in Self.edit(&f.dataset, DatasetSection()) { $0.partition = v } }) }))
    }
    if let choices = w.model {
      axes.append(Axis(name: "model", values: choices.map { c in (c.label, { f in Self.choose(c, &f) }) }))
    }
    for (key, values) in [
      ("gaussian_noise", w.gaussianNoise), ("laplace_noise", w.laplaceNoise), ("clip", w.clip), ("prune", w.prune),
    ] {
      guard let values else { continue }
      axes.append(Axis(name: key, values: values.map { v in ("\(v)", { f in Self.addDefense(key, v, to: &f) }) }))
    }
    if let q = w.quantize {
      axes.append(Axis(name: "quantize", values: q.map { v in (v.rawValue, { f in f.defenses = (f.defenses ?? []) + [.quantize(v)] }) }))
    }
    if let b = w.localBatch {
      axes.append(Axis(name: "local_batch", values: b.map { v in ("\(v)", { f in Self.edit(&f.federation, ScenarioFile.FederationSection()) { $0.localBatch = v } }) }))
    }
    if let e = w.epochs {
      axes.append(Axis(name: "epochs", values: e.map { v in ("\(v)", { f in Self.edit(&f.federation, ScenarioFile.FederationSection()) { $0.epochs = v } }) }))
    }
    if let m = w.dpNoiseMultiplier {
      axes.append(Axis(name: "dp_noise_multiplier", values: m.map { v in ("\(v)", { f in Self.setDP(v, &f) }) }))
    }
    if let readings = w.fedavgUpdate, attack != nil {
      axes.append(Axis(name: "fedavg_update", values: readings.map { r in (r.rawValue, { f in Self.edit(&f.attack, AttackSection()) { $0.fedavgUpdate = r } }) }))
    }
    if let methods = w.attackMethod, attack != nil {
      axes.append(Axis(name: "attack_method", values: methods.map { m in (m.rawValue, { f in Self.setMethod(m, &f) }) }))
    }
    if let starts = w.attackStart, attack != nil {
      axes.append(Axis(name: "attack_start", values: starts.map { s in (s.rawValue, { f in Self.edit(&f.attack, AttackSection()) { $0.start = s } }) }))
    }
    return axes
  }

  /// A dataset's name in a point's label: its file's name, or its folder's when the file has a
  /// generic one (`cifar-10/test_batch.bin` is `cifar-10`).
  static func datasetName(_ path: String) -> String {
    let parts = path.split(separator: "/").map(String.init)
    guard let file = parts.last else { return path }
    let generic = ["test", "t10k", "test_batch", "test_32x32", "data", "images"]
    let stem = String(file.prefix { $0 != "." && $0 != "-" })
    return parts.count > 1 && generic.contains(stem) ? parts[parts.count - 2] : file
  }

  /// A swept defense value of 0 leaves that defense off (a negative one is kept, to be refused).
  private static func addDefense(_ key: String, _ v: Float, to f: inout ScenarioFile) {
    guard v != 0, let d = Defense.numeric(key, v) else { return }
    f.defenses = (f.defenses ?? []) + [d]
  }

  private static func setDP(_ v: Double, _ f: inout ScenarioFile) {
    guard v != 0 else {
      f.dpSgd = nil
      return
    }
    edit(&f.dpSgd, DPSGDSection()) { $0.noiseMultiplier = v }
  }

  /// The method (with its own default iterations unless the file set them).
  private static func setMethod(_ m: AttackKind, _ f: inout ScenarioFile) {
    edit(&f.attack, AttackSection()) { $0.method = m }
  }

  private static func edit<T>(_ section: inout T?, _ empty: T, _ body: (inout T) -> Void) {
    var s = section ?? empty
    body(&s)
    section = s
  }
}
