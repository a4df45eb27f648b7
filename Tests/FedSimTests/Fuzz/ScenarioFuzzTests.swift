import AdversaryRole
import FedSimCore
import FedSimKit
import Foundation
import Testing

/// Mutated scenario files and `--set` overrides, loaded, designed and (when valid) set up as the
/// server and every client would: each is a clear error or a working scenario, never a crash or
/// a hang.
@Suite("Fuzzing: scenario files and --set")
struct ScenarioFuzzTests {
  static let bases = [
    """
    name: fuzz
    seed: 3
    repeats: 1
    model:
      name: lenet
      activation: sigmoid
    dataset:
      path: shapes
      count: 40
      partition: dirichlet
      alpha: 0.5
      test_fraction: 0.25
    federation:
      clients: 3
      rounds: 2
      algorithm: fedavg
      local_batch: 2
      epochs: 1
      learning_rate: 0.1
      sample: 1
      deadline: 5
      quorum: 2
      host: 127.0.0.1
    attack:
      method: wdlg
      iterations: 3
      rounds: [1, 2]
      victims: [0]
      restarts: 1
      threshold: 30
    defenses:
      - clip: 4
      - prune: 0.5
    sweep:
      gaussian_noise: [0, 0.1]
    """,
    """
    name: fuzz-dp
    dataset:
      count: 30
      partition: shards
      shards: 2
    federation:
      clients: 2
      security: none
    dp_sgd:
      clip: 1
      noise_multiplier: 1.1
      delta: 0.00001
    secure_aggregation: true
    sweep:
      local_batch: [1, 2]
      attack_method: [dlg, idlg]
    """,
    """
    name: fuzz-models
    model: {name: lenet, size: 24, normalize: imagenet, activation: sigmoid, activation_scope: all}
    dataset: {path: shapes, count: 12, test_fraction: 0}
    federation: {clients: 2}
    attack: {iterations: 3}
    sweep:
      model:
        - lenet
        - {name: cnn6, size: 16, normalize: '0.5,0.5,0.5/0.25,0.25,0.25', local_batch: 2, iterations: 2}
        - {name: mlp, auxiliary_head: false}
    """,
  ]

  static let keys = [
    "name", "seed", "repeats", "defenses", "secure_aggregation", "model.name", "model.activation", "model.classes",
    "model.size", "model.normalize", "model.activation_scope", "model.auxiliary_head", "sweep.model",
    "dataset.path", "dataset.count", "dataset.partition", "dataset.alpha", "dataset.shards", "dataset.test_fraction",
    "federation.clients", "federation.rounds", "federation.algorithm", "federation.local_batch", "federation.epochs",
    "federation.learning_rate", "federation.sample", "federation.deadline", "federation.quorum", "federation.host",
    "federation.security", "attack.method", "attack.iterations", "attack.rounds", "attack.victims", "attack.restarts",
    "attack.threshold", "dp_sgd.clip", "dp_sgd.noise_multiplier", "dp_sgd.delta", "sweep", "sweep.prune", "sweep.local_batch",
    "sweep.clip", "", ".", "federation.", "a..b", "model.name.x",
  ]

  /// One mutant: the base with one to three edits of its lines or bytes.
  static func mutant(_ fuzz: inout Fuzz) -> String {
    var lines = fuzz.pick(bases).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    for _ in 0..<fuzz.int(1..<4) {
      if lines.isEmpty { lines = [""] }
      let i = fuzz.int(0..<lines.count)
      switch fuzz.int(0..<8) {
      case 0, 1, 2:  // a value replaced
        if let colon = lines[i].firstIndex(of: ":") {
          lines[i] = String(lines[i][...colon]) + " " + fuzz.pick(Fuzz.hostileScalars)
        }
      case 3: lines.remove(at: i)
      case 4: lines.insert(lines[i], at: i)
      case 5:  // a character replaced
        var chars = Array(lines[i])
        if !chars.isEmpty {
          chars[fuzz.int(0..<chars.count)] = fuzz.pick(Array(":{}[]&*!%|>-#'\"\t\u{0}\u{7F}é 9"))
          lines[i] = String(chars)
        }
      case 6: lines = Array(lines.prefix(i)) + [String(lines[i].prefix(fuzz.int(0..<(lines[i].count + 1))))]
      default: lines.append(fuzz.pick(extras))
      }
    }
    return lines.joined(separator: "\n")
  }

  /// Whole hostile documents and sections appended to a file.
  static let extras: [String] = [
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]",
    "sweep: {" + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "}",
    "sweep: {prune: []}", "sweep: {prune: [0, 1.5]}", "sweep: {local_batch: [0]}", "sweep: {gaussian_noise: [.nan]}",
    "defenses: [{clip: .inf}]", "defenses: [{prune: 1}, {quantize: 3}]", "defenses: [{}]", "defenses: [{clip: 1, prune: 0.5}]",
    "attack: {victims: [99]}", "attack: {rounds: [0]}", "dataset: {partition: dirichlet, alpha: 0}",
    "dataset: {count: -3}", "dataset: {count: 100000000}", "federation: {clients: 100, quorum: 100}",
    "federation: {rounds: 9223372036854775807}", "federation: {host: 0.0.0.0, security: none}", "--- \n---\n", "%YAML 9.9\n",
    "!!binary x: y", "? [a, b]\n: c",
  ]

  /// What a case ended as: an error (with its text) or the points it designed.
  enum Outcome: Sendable {
    case error(String)
    case designed(Int)
  }

  /// Loads, overrides, designs and, for every valid point, builds what the processes build.
  static func attempt(_ yaml: String, sets: [String]) -> Outcome {
    do {
      let file = try ScenarioFile.load(yaml: yaml, source: "fuzz.yaml").overriding(sets, source: "fuzz.yaml")
      let design = try file.design(source: "fuzz.yaml")
      for point in design.points.prefix(3) {
        let s = try point.scenario.validated(source: "point")
        if case .shapes(let count) = s.data.source, count > 5_000 { continue }  // valid, but slow to draw here
        let setup = try FederationSetup(s)
        #expect(setup.clientIndices.count == s.federation.clients)
        _ = try FederationSetup.initialModel(s)
        if let brief = AdversaryBrief(s) { _ = try TapModel(brief.model) }
      }
      return .designed(design.points.count)
    } catch {
      return .error("\(error)")
    }
  }

  @Test("mutated scenario files and --set values: errors or valid runs, never a crash or a hang")
  func mutants() {
    var fuzz = Fuzz(seed: 11)
    let cases = Fuzz.cases(300)
    var (errors, valid, hangs) = (0, 0, [String]())
    for n in 0..<cases {
      let yaml = Self.mutant(&fuzz)
      var sets: [String] = []
      if fuzz.chance(0.3) { sets.append(fuzz.pick(Self.keys) + "=" + fuzz.pick(Fuzz.hostileScalars)) }
      if fuzz.chance(0.05) { sets.append("sweep=" + Self.extras[0].replacingOccurrences(of: "\n", with: ", ")) }
      let frozen = sets
      guard let outcome = bounded(seconds: 20, { Self.attempt(yaml, sets: frozen) }) else {
        hangs.append("case \(n): \(sets)\n\(yaml)")
        break
      }
      switch outcome {
      case .error(let text):
        errors += 1
        #expect(!text.isEmpty && (text.contains("fuzz.yaml") || text.contains("--set") || text.contains("point")), "case \(n): \(text)")
        // Short enough to read: no error quotes a whole hostile line (5,000 brackets deep).
        #expect(text.count <= 2_000, "case \(n): \(text.count) characters: \(text.prefix(300))")
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" }, "case \(n): \(text.prefix(300))")
      case .designed: valid += 1
      }
    }
    #expect(hangs.isEmpty, "\(hangs)")
    #expect(errors > cases / 4 && valid > cases / 20, "errors \(errors), valid \(valid) of \(cases): the mutator lost its bite")
    print("scenario fuzz: \(cases) cases, \(errors) errors, \(valid) valid, \(hangs.count) hangs")
  }
}
