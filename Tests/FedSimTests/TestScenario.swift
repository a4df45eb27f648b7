import FedSimCore
import FedSimKit

/// Scenarios for tests, written as YAML and resolved as the launcher resolves them.
enum TestScenario {
  static func file(_ yaml: String) throws -> ScenarioFile { try ScenarioFile.load(yaml: yaml, source: "test") }

  /// The one point of a scenario without a sweep.
  static func resolve(_ yaml: String) throws -> Scenario {
    guard let p = try file(yaml).design(source: "test").points.first else { throw ScenarioError.syntax(source: "test", reason: "no point") }
    return p.scenario
  }

  static func resolve(path: String) throws -> Scenario {
    guard let p = try ScenarioFile.load(path: path).design(source: path).points.first else {
      throw ScenarioError.syntax(source: path, reason: "no point")
    }
    return p.scenario
  }
}
