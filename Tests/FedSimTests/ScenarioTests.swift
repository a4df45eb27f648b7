import FedSimCore
import Foundation
import TestSupport
import Testing

@Suite("Scenario files")
struct ScenarioTests {
  func error(_ yaml: String) -> String {
    do {
      _ = try Scenario.load(yaml: yaml, source: "s.yaml")
      return "no error"
    } catch {
      return error.description
    }
  }

  @Test("every scenario in scenarios/ loads")
  func shippedScenariosLoad() throws {
    let dir = SharedData.repositoryRoot + "/scenarios"
    let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }
    #expect(files.contains("demo.yaml"))
    for f in files { _ = try Scenario.load(path: dir + "/" + f) }
  }

  @Test("an empty file is the defaults")
  func defaults() throws {
    let s = try Scenario.load(yaml: "", source: "s.yaml").resolved()
    #expect(s.federation?.clients == 2 && s.model?.name == "lenet" && s.dataset?.path == "shapes" && s.attack == nil)
  }

  @Test("unknown keys are errors with line and column, at any depth")
  func unknownKeys() {
    #expect(error("name: x\ncolour: red\n") == "s.yaml:2:1: unknown key 'colour'")
    #expect(error("federation:\n  clients: 2\n  round: 3\n") == "s.yaml:3:3: unknown key 'federation.round'")
    #expect(error("defenses:\n  - prune: 0.5\n  - blur: 2\n") == "s.yaml:3:5: unknown key 'defenses[1].blur'")
  }

  @Test("values of the wrong type are errors with line and column")
  func wrongTypes() {
    #expect(error("federation:\n  clients: many\n").hasPrefix("s.yaml:2:12: 'federation.clients'"))
    #expect(error("attack:\n  method: magic\n").hasPrefix("s.yaml:2:11: 'attack.method'"))
    #expect(error("attack:\n  victims: 3\n").hasPrefix("s.yaml:2:12: 'attack.victims'"))
    #expect(error("federation: [1, 2]\n").hasPrefix("s.yaml:1:13: 'federation'"))
  }

  @Test("values out of range are errors naming the key")
  func invalidValues() {
    #expect(error("federation: {clients: 0}").contains("'federation.clients' must be at least 1"))
    #expect(error("federation: {algorithm: fedprox}").contains("'federation.algorithm'"))
    #expect(error("federation: {clients: 2, quorum: 3}").contains("'federation.quorum'"))
    #expect(error("model: {name: alexnet}").contains("'model.name'"))
    #expect(error("attack: {rounds: [2]}").contains("'attack.rounds'"))
    #expect(error("attack: {victims: [5]}").contains("'attack.victims'"))
    #expect(error("defenses: [{prune: 1.5}]").contains("'defenses[0].prune'"))
    #expect(error("defenses: [{prune: 0.5, clip: 1}]").contains("exactly one"))
    #expect(error("dataset: {partition: random}").contains("'dataset.partition'"))
    #expect(error("name: [unclosed").hasPrefix("s.yaml: "))
  }

  @Test("--set overrides existing keys only, and is checked like the file")
  func overrides() throws {
    let s = try Scenario.load(yaml: "attack: {method: dlg}", source: "s.yaml")
    let o = try s.overriding(["federation.rounds=3", "attack.method=wdlg", "defenses=[{prune: 0.5}]"], source: "s.yaml")
    #expect(o.federation?.rounds == 3 && o.attack?.method == .wdlg && o.defenses?.first?.prune == 0.5)
    #expect(throws: ScenarioError.self) { try s.overriding(["federation.roundz=3"], source: "s.yaml") }
    #expect(throws: ScenarioError.self) { try s.overriding(["federation.rounds=zero"], source: "s.yaml") }
    #expect(throws: ScenarioError.self) { try s.overriding(["federation.rounds"], source: "s.yaml") }
  }
}
