/// Text read from a file or a message that goes into an error for a person to read: a name or a
/// value from a hostile file could otherwise be a megabyte long, or carry escape sequences that a
/// terminal acts on instead of showing.
public enum UntrustedText {
  /// Characters of a quoted value shown at most.
  public static let quotedLimit = 80
  /// Characters of one line of a message printed at most.
  public static let lineLimit = 2_000

  /// `text` for quoting inside a message: control characters as U+FFFD, cut after `limit`
  /// characters (`quotedLimit` by default) with "…".
  public static func quoted(_ text: String, limit: Int = quotedLimit) -> String {
    let shown = String(String.UnicodeScalarView(text.unicodeScalars.prefix(limit + 1).map(printable)))
    return shown.unicodeScalars.count <= limit
      ? shown : String(String.UnicodeScalarView(shown.unicodeScalars.prefix(limit))) + "…"
  }

  /// A whole message for a terminal or a log line: control characters other than newlines and
  /// tabs as U+FFFD, each line cut after `lineLimit` characters with "…".
  public static func printable(message: String) -> String {
    message.split(separator: "\n", omittingEmptySubsequences: false).map { line in
      let scalars = line.unicodeScalars
      let kept = scalars.prefix(lineLimit).map { $0 == "\t" ? $0 : printable($0) }
      return String(String.UnicodeScalarView(kept)) + (scalars.count > lineLimit ? "…" : "")
    }.joined(separator: "\n")
  }

  /// `c`, or U+FFFD for a C0 or C1 control character (ESC among them) or DEL.
  public static func printable(_ c: Unicode.Scalar) -> Unicode.Scalar {
    c.value < 0x20 || (0x7F...0x9F).contains(c.value) ? "\u{FFFD}" : c
  }
}
