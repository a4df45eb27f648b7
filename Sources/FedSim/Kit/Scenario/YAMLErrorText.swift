import FedSimCore
import Tensors
import Yams

/// A YAML parser's error as a short `ScenarioError.yaml`: where (line:column), what, and the line
/// it is on cut to a window around the column, with a caret under it. Yams' own description
/// quotes the whole line, which for a hostile file (a 400 KB line of brackets past libyaml's
/// nesting limit) put 400 KB on the terminal.
enum YAMLErrorText {
  /// Characters of the offending line shown at most.
  static let window = 72

  /// `text`: the YAML, when the error does not carry it (duplicated keys), for the snippet.
  static func error(_ error: any Error, source: String, text: String? = nil) -> ScenarioError {
    switch error as? YamlError {
    case .scanner(let context, let problem, let mark, let yaml)?,
      .parser(let context, let problem, let mark, let yaml)?,
      .composer(let context, let problem, let mark, let yaml)?:
      let during = context.map { "\($0.text) (from \($0.mark.line):\($0.mark.column)): " } ?? ""
      return .yaml(
        source: source, position: .init(line: mark.line, column: mark.column),
        reason: during + problem + snippet(yaml, line: mark.line, column: mark.column))
    case .duplicatedKeysInMapping(let duplicates, let context)?:
      let keys = duplicates.prefix(5).map { "'\(UntrustedText.quoted($0))'" }.joined(separator: ", ")
        + (duplicates.count > 5 ? " and \(duplicates.count - 5) more keys" : "")
      let (line, column) = (context.mark.line, context.mark.column)
      return .yaml(
        source: source, position: .init(line: line, column: column),
        reason: "the mapping that starts here repeats \(keys)"
          + (text.map { snippet($0, line: line, column: column) } ?? ""))
    case .reader(let problem, let offset, _, let yaml)?:
      guard let offset, let (line, column) = position(ofCharacter: offset, in: yaml) else {
        return .yaml(source: source, position: nil, reason: problem)
      }
      return .yaml(
        source: source, position: .init(line: line, column: column),
        reason: problem + snippet(yaml, line: line, column: column))
    default:
      // Any other error, whole but short (a few hundred characters).
      return .yaml(source: source, position: nil, reason: UntrustedText.quoted("\(error)", limit: 4 * window))
    }
  }

  /// The line and column (from 1, the column in Unicode scalars) where the first `offset`
  /// Characters of `text` end: Yams gives a reader error's place as that count. Nil past the end.
  static func position(ofCharacter offset: Int, in text: String) -> (line: Int, column: Int)? {
    guard offset >= 0, let end = text.index(text.startIndex, offsetBy: offset, limitedBy: text.endIndex) else { return nil }
    let before = text.unicodeScalars[..<end]
    let lineStart = before.lastIndex(of: "\n").map { before.index(after: $0) } ?? before.startIndex
    let line = 1 + before.reduce(0) { $0 + ($1 == "\n" ? 1 : 0) }
    return (line, 1 + before[lineStart...].count)
  }

  /// Line `line` of `text` (from 1) around `column` (from 1, in Unicode scalars, as libyaml
  /// counts), on a line of its own, with a caret line under it; empty past the text's end.
  /// Control characters are shown as U+FFFD, tabs as spaces.
  static func snippet(_ text: String, line: Int, column: Int) -> String {
    // By scalars: "\r\n" is one Character, which a split on "\n" would not cut.
    let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
    guard line >= 1, line <= lines.count else { return "" }
    let scalars = (lines[line - 1].last == "\r" ? lines[line - 1].dropLast() : lines[line - 1]).map(printable)
    let at = Swift.min(Swift.max(column - 1, 0), scalars.count)
    let start = Swift.max(0, Swift.min(at - window / 2, scalars.count - window))
    let end = Swift.min(scalars.count, start + window)
    var shown = String(String.UnicodeScalarView(scalars[start..<end]))
    var caret = at - start
    if start > 0 { (shown, caret) = ("…" + shown, caret + 1) }
    if end < scalars.count { shown += "…" }
    return "\n" + shown + "\n" + String(repeating: " ", count: caret) + "^"
  }

  /// `c`, or a stand-in of one column for what a terminal would act on rather than show (an
  /// escape sequence in a hostile file) or widen (a tab, which would shift the caret).
  private static func printable(_ c: Unicode.Scalar) -> Unicode.Scalar {
    c == "\t" ? " " : UntrustedText.printable(c)
  }
}
