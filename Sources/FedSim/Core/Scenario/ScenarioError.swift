import Tensors

/// Why a scenario cannot run, naming the file (or `--set`), and the line and column where there
/// is one.
public enum ScenarioError: Error, CustomStringConvertible, Equatable {
  case syntax(source: String, reason: String)
  /// Text that is not YAML, where the parser stopped.
  case yaml(source: String, position: Position?, reason: String)
  case unknownKey(source: String, position: Position?, key: String)
  case type(source: String, position: Position?, key: String, reason: String)
  case invalid(source: String, key: String, reason: String)

  /// A line and column in the file, from 1.
  public struct Position: Sendable, Equatable {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) { (self.line, self.column) = (line, column) }
  }

  /// The message, with the keys the file gave quoted short, and no control character but
  /// newlines and tabs.
  public var description: String {
    func at(_ s: String, _ p: Position?) -> String { p.map { "\(s):\($0.line):\($0.column)" } ?? s }
    func q(_ text: String) -> String { UntrustedText.quoted(text) }
    let message =
      switch self {
      case .syntax(let s, let r): "\(s): \(r)"
      case .yaml(let s, let p, let r): "\(at(s, p)): \(r)"
      case .unknownKey(let s, let p, let k): "\(at(s, p)): unknown key '\(q(k))'"
      case .type(let s, let p, let k, let r): "\(at(s, p)): '\(q(k))': \(r)"
      case .invalid(let s, let k, let r): "\(s): '\(q(k))' \(r)"
      }
    return UntrustedText.printable(message: message)
  }
}
