import Foundation

/// A JSON decoding error as a short sentence for after "FILE: ": where in the file and what was
/// wrong ("'attack.method': expected a string, found a number"), not Foundation's
/// "DecodingError.typeMismatch: … Debug description: …".
enum DecodingErrorText {
  static func describe(_ error: any Error) -> String {
    guard let error = error as? DecodingError else { return "\(error)" }
    switch error {
    case .dataCorrupted(let c) where c.codingPath.isEmpty: return "not valid JSON"
    case .dataCorrupted(let c): return "\(place(c.codingPath)): \(c.debugDescription)"
    case .keyNotFound(let key, let c): return "\(place(c.codingPath + [key])) is missing"
    case .valueNotFound(let type, let c): return "\(place(c.codingPath)): expected \(kind(type)), found null"
    case .typeMismatch(let type, let c): return "\(place(c.codingPath)): expected \(kind(type))\(found(c.debugDescription))"
    @unknown default: return "\(error)"
    }
  }

  /// A coding path as 'a.b[2].c', or "the top level".
  static func place(_ path: [any CodingKey]) -> String {
    guard !path.isEmpty else { return "the top level" }
    let text = path.reduce("") { text, key in
      key.intValue.map { text + "[\($0)]" } ?? (text.isEmpty ? key.stringValue : text + "." + key.stringValue)
    }
    return "'\(text)'"
  }

  /// ", found a string" from Foundation's "Expected to decode … but found a string instead.", or "".
  static func found(_ description: String) -> String {
    guard let at = description.range(of: " but found ") else { return "" }
    var rest = description[at.upperBound...].replacingOccurrences(of: " instead.", with: "")
    if !["a ", "an ", "null"].contains(where: rest.hasPrefix) { rest = "a " + rest }  // Foundation says "found number"
    return rest.count <= 40 ? ", found " + rest : ""
  }

  /// A Swift type as a JSON reader names its values.
  static func kind(_ type: Any.Type) -> String {
    let name = "\(type)"
    if name.hasPrefix("Dictionary") { return "an object" }
    if name.hasPrefix("Array") { return "a list" }
    if name == "String" { return "a string" }
    if name == "Bool" { return "true or false" }
    if ["Int", "Int64", "UInt64", "Int32", "UInt32", "Double", "Float"].contains(name) { return "a number" }
    return name
  }
}
