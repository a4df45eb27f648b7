import FedSimCore
import Foundation
import Tensors
import Yams

extension ScenarioFile {
  /// The file with `key=value` overrides applied (`federation.rounds=3`, `attack.method=wdlg`,
  /// `defenses=[{prune: 0.5}]`, `sweep={prune: [0, 0.5]}`); only keys the format has may be
  /// set, the value is YAML, and the result goes through the strict loader again.
  public func overriding(_ assignments: [String], source: String) throws(ScenarioError) -> ScenarioFile {
    guard !assignments.isEmpty else { return self }
    var root = try json()
    for assignment in assignments {
      guard let eq = assignment.firstIndex(of: "=") else {
        throw .invalid(source: "--set", key: assignment, reason: "is not KEY=VALUE")
      }
      let path = assignment[..<eq].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
      guard !path.contains(where: \.isEmpty), KeyTree.scenario.contains(path[...]) else {
        throw .unknownKey(source: "--set", position: nil, key: String(assignment[..<eq]))
      }
      let text = String(assignment[assignment.index(after: eq)...])
      let value: Any
      do {
        // Within the budget first: the value is then small enough to build.
        _ = try YAMLBudget.compose(text, source: "--set " + UntrustedText.quoted(assignment))
        value = try Yams.load(yaml: text) ?? NSNull()
      } catch let e as ScenarioError { throw e } catch {
        throw .invalid(source: "--set", key: assignment, reason: "has a value that is not YAML")
      }
      root = Self.setting(root, path[...], to: value)
    }
    guard JSONSerialization.isValidJSONObject(root), let data = try? JSONSerialization.data(withJSONObject: root) else {
      throw .invalid(source: "--set", key: assignments.joined(separator: " "), reason: "gives a value that is not a number, text, list or mapping")
    }
    // JSON is YAML: the strict loader checks every key and type of the result.
    return try Self.load(
      yaml: String(decoding: data, as: UTF8.self), source: source + " with --set " + assignments.map { UntrustedText.quoted($0) }.joined(separator: " "))
  }

  /// This file as a JSON object (only the keys it sets).
  private func json() throws(ScenarioError) -> [String: Any] {
    guard let data = try? JSONEncoder().encode(self),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { throw .syntax(source: "--set", reason: "the scenario cannot be re-encoded") }
    return object
  }

  private static func setting(_ dict: [String: Any], _ path: ArraySlice<String>, to value: Any) -> [String: Any] {
    guard let key = path.first else { return dict }
    var d = dict
    if path.count == 1 {
      d[key] = value
    } else {
      d[key] = setting(d[key] as? [String: Any] ?? [:], path.dropFirst(), to: value)
    }
    return d
  }
}
