import FedData
import FedSimCore
import FedSimKit
import FedServer
import FedClient
import AdversaryRole
import Foundation
import TestSupport
import Tensors
import Testing

@Suite("Scenario files")
struct ScenarioTests {
  func error(_ yaml: String) -> String {
    do {
      _ = try ScenarioFile.load(yaml: yaml, source: "s.yaml").design(source: "s.yaml")
      return "no error"
    } catch {
      return error.description
    }
  }

  @Test("every scenario in scenarios/ loads")
  func shippedScenariosLoad() throws {
    let dir = SharedData.repositoryRoot + "/scenarios"
    let top = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }
    let paper = try FileManager.default.contentsOfDirectory(atPath: dir + "/paper").filter { $0.hasSuffix(".yaml") }
    let files = top + paper.map { "paper/" + $0 }
    #expect(files.contains("demo.yaml") && files.contains("paper/success-rate.yaml"))
    for f in files where !(try String(contentsOfFile: dir + "/" + f, encoding: .utf8)).contains("../shared") {
      _ = try ScenarioFile.load(path: dir + "/" + f).design(source: f)
    }
    // Those reading ../shared/data load as files here; their datasets are checked where present.
    for f in files { _ = try ScenarioFile.load(path: dir + "/" + f) }
  }

  @Test("an empty file is the defaults")
  func defaults() throws {
    let d = try ScenarioFile.load(yaml: "", source: "s.yaml").design(source: "s.yaml")
    let s = try #require(d.points.first).scenario
    #expect(d.points.count == 1 && d.repeats == 1)
    #expect(s.federation.clients == 2 && s.model.name == "lenet" && s.data.source == .shapes(count: 200) && s.attack == nil)
    #expect(s.model.channels == 3 && s.model.imageSize == 32 && s.model.classes == 10 && s.federation.algorithm == .fedsgd)
  }

  @Test("unknown keys are errors with line and column, at any depth")
  func unknownKeys() {
    #expect(error("name: x\ncolour: red\n") == "s.yaml:2:1: unknown key 'colour'")
    #expect(error("federation:\n  clients: 2\n  round: 3\n") == "s.yaml:3:3: unknown key 'federation.round'")
    let blur = error("defenses:\n  - prune: 0.5\n  - blur: 2\n")
    #expect(blur.hasPrefix("s.yaml:3:") && blur.contains("'defenses[1].blur'") && blur.contains("not a defense"), "\(blur)")
  }

  @Test("values of the wrong type are errors with line and column")
  func wrongTypes() {
    #expect(error("federation:\n  clients: many\n").hasPrefix("s.yaml:2:12: 'federation.clients'"))
    #expect(error("attack:\n  method: magic\n").hasPrefix("s.yaml:2:11: 'attack.method'"))
    #expect(error("attack:\n  victims: 3\n").hasPrefix("s.yaml:2:12: 'attack.victims'"))
    #expect(error("federation: [1, 2]\n").hasPrefix("s.yaml:1:13: 'federation'"))
  }

  @Test("text that is not YAML is a short error: line and column, the line cut around the column")
  func notYAML() {
    #expect(
      error("federation:\n  clients: [1, 2\nattack:\n")
        == "s.yaml:3:7: while parsing a flow sequence (from 2:12): did not find expected ',' or ']'\nattack:\n      ^")
    #expect(error("clients: 2\n  rounds: 3\n") == "s.yaml:2:9: mapping values are not allowed in this context\n  rounds: 3\n        ^")
    // A control character (an escape sequence's ESC) after Windows line ends and an accented
    // letter: its line and column, the line shown without the CR and with U+FFFD for the ESC.
    #expect(
      error("clients: 2\r\nname: caf\u{E9} \u{1B}[31m\r\n")
        == "s.yaml:2:12: control characters are not allowed\nname: caf\u{E9} \u{FFFD}[31m\n           ^")
    #expect(error("clients: 2\r\n  rounds: 3\r\n") == "s.yaml:2:9: mapping values are not allowed in this context\n  rounds: 3\n        ^")
    // A key twice in one mapping: the mapping's place and the key, not Yams' text with its line ends.
    #expect(
      error("seed: 0\nmodel:\n  name: lenet\n  classes: 10\n  name: cnn6\n")
        == "s.yaml:3:3: the mapping that starts here repeats 'name'\n  name: lenet\n  ^")
    // Past libyaml's nesting limit on a 400,000-character line: the line is not quoted whole.
    let deep = error("a: " + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000))
    let lines = deep.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(deep.hasPrefix("s.yaml:1:") && deep.contains("nesting") && deep.count < 400, "\(deep.prefix(500))")
    // libyaml marks the outermost bracket: the line's first 72 characters, a caret under column 5.
    #expect(deep.hasPrefix("s.yaml:1:5: "), "\(deep.prefix(500))")
    #expect(lines.count == 3 && lines[1] == "a: " + String(repeating: "[", count: 69) + "…", "\(deep.prefix(500))")
    #expect(lines.count == 3 && lines[2] == "    ^", "\(deep.prefix(500))")
    // An error far into a long line: the window around it, cut on both sides, the caret under it.
    let long = "federation: [" + String(repeating: "1, ", count: 100) + "2 } 3]" + String(repeating: " ", count: 100)
    let mid = error(long).split(separator: "\n", omittingEmptySubsequences: false)
    let column = Int(mid[0].split(separator: ":")[2]) ?? 0
    let at = long.index(long.startIndex, offsetBy: column - 1)
    #expect(column > 300 && mid.count == 3 && mid[1].hasPrefix("…") && mid[1].hasSuffix("…"), "\(mid)")
    #expect(mid.count == 3 && mid[2] == String(repeating: " ", count: 37) + "^", "\(mid)")
    #expect(mid.count == 3 && mid[1].dropFirst(37).first == long[at], "\(mid)")
  }

  @Test("a scenario path that is missing, a folder, not UTF-8 or endless is an error naming it")
  func unreadableFiles() throws {
    func failure(_ path: String) -> String {
      do {
        _ = try ScenarioFile.load(path: path)
        return "no error"
      } catch { return error.description }
    }
    let dir = TemporaryPath.make("fedsim-scenario-files")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let latin1 = dir + "/latin1.yaml"
    try Data("name: caf\u{E9}\n".data(using: .isoLatin1)!).write(to: URL(fileURLWithPath: latin1))
    #expect(failure(dir + "/none.yaml") == dir + "/none.yaml: no such file")
    #expect(failure(dir) == dir + ": is a folder, not a scenario file")
    #expect(failure(latin1) == latin1 + ": is not UTF-8 text")
    #expect(failure("/dev/zero") == "/dev/zero: is longer than 1048576 bytes")
  }

  @Test("values out of range are errors naming the key")
  func invalidValues() {
    #expect(error("federation: {clients: 0}").contains("'federation.clients' must be 1 to"))
    #expect(error("federation: {rounds: 0}").contains("'federation.rounds'"))
    #expect(error("federation: {rounds: 99999999999}").contains("'federation.rounds'"))
    #expect(error("federation: {learning_rate: .nan}").contains("'federation.learning_rate'"))
    #expect(error("federation: {learning_rate: .inf}").contains("'federation.learning_rate'"))
    #expect(error("dataset: {count: -3}").contains("'dataset.count'"))
    #expect(error("dataset: {partition: dirichlet, alpha: 0}").contains("'dataset.alpha'"))
    #expect(error("defenses: [{gaussian_noise: .nan}]").contains("'defenses[0].gaussian_noise'"))
    #expect(error("dp_sgd: {noise_multiplier: -1}").contains("'dp_sgd.noise_multiplier'"))
    #expect(error("repeats: 0").contains("'repeats'"))
    #expect(error("federation: {algorithm: fedprox}").contains("'federation.algorithm'"))
    #expect(error("federation: {clients: 2, quorum: 3}").contains("'federation.quorum'"))
    #expect(error("model: {name: alexnet}").contains("'model.name'"))
    #expect(error("attack: {rounds: [2]}").contains("'attack.rounds'"))
    #expect(error("attack: {victims: [5]}").contains("'attack.victims'"))
    #expect(error("defenses: [{prune: 1.5}]").contains("'defenses[0].prune'"))
    #expect(error("defenses: [{prune: 0.5, clip: 1}]").contains("exactly one"))
    #expect(error("dataset: {path: /nonexistent/data.bin}").contains("'dataset.path'"))
    #expect(error("dataset: {partition: random}").contains("'dataset.partition'"))
    #expect(error("name: [unclosed").hasPrefix("s.yaml:2:1: "))
  }

  @Test("sweeps over datasets and models: each point reads its own data and builds its own model")
  func datasetAndModelSweep() throws {
    let file = try ScenarioFile.load(
      yaml: "dataset: {path: shapes, count: 8}\nsweep: {dataset: [shapes, ./missing/test_batch.bin], model: [lenet, cnn6]}",
      source: "s.yaml")
    #expect(throws: ScenarioError.self) { try file.design(source: "s.yaml") }  // the missing file, named
    let ok = try ScenarioFile.load(yaml: "dataset: {path: shapes, count: 8}\nsweep: {dataset: [shapes], model: [lenet, cnn6]}", source: "s.yaml")
    let points = try ok.design(source: "s.yaml").points
    #expect(points.map(\.label) == ["dataset=shapes, model=lenet", "dataset=shapes, model=cnn6"])
    #expect(points.map(\.scenario.model.name) == ["lenet", "cnn6"])
    #expect(error("sweep: {model: [alexnet]}").contains("'model.name'"))
    do {
      _ = try file.design(source: "s.yaml")
    } catch {
      #expect(error.description.contains("missing/test_batch.bin"), "\(error)")
    }
  }

  @Test("combine: each varies one key at a time from the file's own setting")
  func sweepEach() throws {
    let yaml = """
      dataset: {path: shapes, count: 40}
      federation: {clients: 2, algorithm: fedavg}
      model: {init: pytorch}
      sweep: {combine: each, gaussian_noise: [0.01, 0.1], quantize: [int8], epochs: [2], dp_noise_multiplier: [1.0]}
      """
    let points = try ScenarioFile.load(yaml: yaml, source: "s.yaml").design(source: "s.yaml").points
    #expect(points.map(\.label) == ["base", "gaussian_noise=0.01", "gaussian_noise=0.1", "quantize=int8", "epochs=2", "dp_noise_multiplier=1.0"])
    #expect(points[0].scenario.defenses.isEmpty && points[0].scenario.privacy == .none)
    #expect(points[2].scenario.defenses == [.gaussianNoise(0.1)])
    #expect(points[3].scenario.defenses == [.quantize(.int8)])
    #expect(points[4].scenario.federation.epochs == 2 && points[4].scenario.defenses.isEmpty)
    #expect(points[5].scenario.privacy.dpSGD?.noiseMultiplier == 1.0)
    #expect(points.allSatisfy { $0.scenario.model.initializer == .pytorchDefault })
    let grid = try ScenarioFile.load(yaml: "dataset: {path: shapes, count: 40}\nsweep: {clip: [1, 2], prune: [0.5, 0.9]}", source: "s.yaml")
    #expect(try grid.design(source: "s.yaml").points.count == 4)
    #expect(error("sweep: {combine: all, clip: [1]}").contains("combine"))
    #expect(error("sweep: {quantize: [int4]}").contains("quantize"))
  }

  @Test("ReLU LeNet starts from PyTorch's initialisation, sigmoid LeNet from DLG's; model.init overrides")
  func initialisation() throws {
    func initializer(_ yaml: String) throws -> Initializer {
      try ScenarioFile.load(yaml: "dataset: {path: shapes, count: 8}\n" + yaml, source: "s.yaml").design(source: "s.yaml").points[0].scenario.model.initializer
    }
    #expect(try initializer("model: {activation: sigmoid}") == .dlgUniform)
    #expect(try initializer("model: {activation: relu}") == .pytorchDefault)
    #expect(try initializer("model: {activation: relu, init: dlg-uniform}") == .dlgUniform)
    #expect(try initializer("model: {name: fedavg_cnn}") == .pytorchDefault)
    #expect(error("model: {init: xavier}").contains("init"))
  }

  @Test("R-GAP's conditions are checked before any process starts")
  func rgapConditions() {
    #expect(error("attack: {method: rgap}") == "no error")
    #expect(error("attack: {method: rgap}\nfederation: {local_batch: 4}") == "no error")
    #expect(error("attack: {method: rgap}\nmodel: {name: resnet18}").contains("'model.name'"))
    #expect(error("attack: {method: rgap}\nmodel: {activation: relu}").contains("'model.activation'"))
    #expect(error("attack: {method: rgap}\nfederation: {algorithm: fedavg}").contains("'federation.algorithm'"))
    // An optimising attack started from R-GAP's images needs what R-GAP needs.
    #expect(error("attack: {method: idlg, start: rgap}\nfederation: {local_batch: 4}") == "no error")
    #expect(error("attack: {method: idlg, start: rgap}\nmodel: {activation: relu}").contains("attack.start rgap"))
    #expect(error("attack: {method: rgap, start: uniform}").contains("'attack.start'"))
    #expect(error("attack: {method: dlg, start: zero}").contains("start"))
  }

  @Test("sweep.attack_start gives one point per start, on the same updates")
  func attackStartSweep() throws {
    let file = try ScenarioFile.load(yaml: "attack: {method: idlg}\nsweep: {attack_start: [uniform, rgap]}", source: "s.yaml")
    let points = try file.design(source: "s.yaml").points
    #expect(points.map { $0.scenario.attack?.start } == [.uniform, .rgap])
    #expect(Set(points.map(\.scenario.seed)).count == 1)
  }

  @Test("--set overrides existing keys only, and is checked like the file")
  func overrides() throws {
    let s = try ScenarioFile.load(yaml: "attack: {method: dlg}", source: "s.yaml")
    let o = try s.overriding(["federation.rounds=3", "attack.method=wdlg", "defenses=[{prune: 0.5}]"], source: "s.yaml")
    #expect(o.federation?.rounds == 3 && o.attack?.method == .wdlg && o.defenses == [.prune(0.5)])
    let added = try ScenarioFile().overriding(["sweep={prune: [0, 0.5]}", "attack.iterations=5"], source: "s.yaml")
    #expect(try added.design(source: "s.yaml").points.count == 2 && added.attack?.iterations == 5)
    #expect(throws: ScenarioError.self) { try s.overriding(["=3"], source: "s.yaml") }
    #expect(throws: ScenarioError.self) { try s.overriding(["federation..rounds=3"], source: "s.yaml") }
    #expect(throws: ScenarioError.self) { try s.overriding(["federation.learning_rate=1e999"], source: "s.yaml").design(source: "s") }
    #expect(throws: ScenarioError.self) { try s.overriding(["federation.roundz=3"], source: "s.yaml") }
    #expect(throws: ScenarioError.self) { try s.overriding(["federation.rounds=zero"], source: "s.yaml") }
    #expect(throws: ScenarioError.self) { try s.overriding(["federation.rounds"], source: "s.yaml") }
  }

  @Test("every sweep value is checked like the file's own, and an empty list is an error")
  func sweepValuesChecked() {
    #expect(error("sweep: {prune: [0, 1.5]}").contains("'defenses[0].prune'"))
    #expect(error("sweep: {prune: [0, 1.5]}").contains("sweep point prune=1.5"))
    #expect(error("sweep: {local_batch: [1, 0]}").contains("'federation.local_batch'"))
    #expect(error("sweep: {gaussian_noise: []}").contains("'sweep.gaussian_noise' lists no values"))
    #expect(error("sweep: {gaussian_noise: [0, 0.1], prune: [0, 0.5]}") == "no error")
  }

  @Test("a resolved scenario survives JSON and is validated again when read back")
  func resolvedRoundTrip() throws {
    let yaml = "federation: {algorithm: fedavg}\ndefenses: [{quantize: int8}, {clip: 2}]\ndp_sgd: {clip: 2}\nattack: {method: wdlg}"
    let s = try #require(try ScenarioFile.load(yaml: yaml, source: "s").design(source: "s").points.first).scenario
    let decoded = try JSONDecoder().decode(Scenario.self, from: JSONEncoder().encode(s))
    #expect(decoded == s && decoded.defenses == [.quantize(.int8), .clip(2)] && decoded.privacy.dpSGD?.clip == 2)
    var bad = s
    bad.federation.rounds = 0
    #expect(throws: ScenarioError.self) { try bad.validated(source: "x") }
  }
}
