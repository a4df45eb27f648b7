import FedSimCore
import Yams

/// A YAML parser's error as a short `ScenarioError.yaml`: where (line:column), what, and the line
/// it is on cut to a window around the column, with a caret under it. Yams' own description
/// quotes the whole line, which for a hostile file (a 400 KB line of brackets past libyaml's
/// nesting limit) put 400 KB on the terminal.
enum YAMLErrorText {
  /// Characters of the offending line shown at most.
  static let window = 72

  static func error(_ error: any Error, source: String) -> ScenarioError {
    guard let error = error as? YamlError else { return .yaml(source: source, position: nil, reason: clipped("\(error)")) }
    switch error {
    case .scanner(let context, let problem, let mark, let yaml),
      .parser(let context, let problem, let mark, let yaml),
      .composer(let context, let problem, let mark, let yaml):
      let during = context.map { "\($0.text) (from \($0.mark.line):\($0.mark.column)): " } ?? ""
      return .yaml(
        source: source, position: .init(line: mark.line, column: mark.column),
        reason: during + problem + snippet(yaml, line: mark.line, column: mark.column))
    case .reader(let problem, let offset, _, _):
      return .yaml(source: source, position: nil, reason: offset.map { "\(problem) at byte \($0)" } ?? problem)
    default:
      return .yaml(source: source, position: nil, reason: clipped("\(error)"))
    }
  }

  /// Line `line` of `text` (from 1) around `column` (from 1, in Unicode scalars, as libyaml
  /// counts), on a line of its own, with a caret line under it; empty past the text's end.
  static func snippet(_ text: String, line: Int, column: Int) -> String {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard line >= 1, line <= lines.count else { return "" }
    let scalars = Array(lines[line - 1].unicodeScalars)
    let at = Swift.min(Swift.max(column - 1, 0), scalars.count)
    let start = Swift.max(0, Swift.min(at - window / 2, scalars.count - window))
    let end = Swift.min(scalars.count, start + window)
    var shown = String(String.UnicodeScalarView(scalars[start..<end]))
    var caret = at - start
    if start > 0 { (shown, caret) = ("…" + shown, caret + 1) }
    if end < scalars.count { shown += "…" }
    return "\n" + shown + "\n" + String(repeating: " ", count: caret) + "^"
  }

  /// `text` cut to a few hundred characters.
  static func clipped(_ text: String) -> String {
    text.count <= 4 * window ? text : String(text.prefix(4 * window)) + "…"
  }
}
