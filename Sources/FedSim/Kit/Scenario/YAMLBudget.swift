import FedSimCore
import Yams

/// The most a scenario's YAML may hold, so that no file or `--set` value (an alias bomb, a
/// megabyte of text) can hold the launcher for long or exhaust its memory (`scenarios/README.md`).
enum YAMLBudget {
  /// Characters in a scenario file or a `--set` value.
  static let characters = 1 << 20
  /// Values (scalars, lists and mappings) once aliases are expanded.
  static let values = 100_000

  /// The document's tree, if `text` is within the budget.
  static func compose(_ text: String, source: String) throws(ScenarioError) -> Node? {
    guard text.utf8.count <= characters else { throw tooLong(source) }
    let node: Node?
    do { node = try Yams.compose(yaml: text) } catch { throw YAMLErrorText.error(error, source: source, text: text) }
    if let node {
      var left = values
      guard within(node, &left) else {
        throw .syntax(source: source, reason: "expands to more than \(values) values (aliases of aliases?)")
      }
    }
    return node
  }

  /// The error for a file or value past `characters`.
  static func tooLong(_ source: String) -> ScenarioError {
    .syntax(source: source, reason: "is longer than \(characters) bytes")
  }

  /// Counts down `left` over `node`'s values, stopping as soon as it runs out (so an alias bomb
  /// costs at most `values` steps).
  private static func within(_ node: Node, _ left: inout Int) -> Bool {
    left -= 1
    guard left >= 0 else { return false }
    switch node {
    case .mapping(let m):
      for (k, v) in m where !within(k, &left) || !within(v, &left) { return false }
    case .sequence(let s):
      for x in s where !within(x, &left) { return false }
    case .scalar, .alias:
      break
    }
    return true
  }
}
