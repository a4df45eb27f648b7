import FedSimCore
import Tensors
import Foundation
import Yams

extension ScenarioFile {
  /// Reads a scenario from YAML: a key the format does not have, or a value of the wrong type,
  /// is an error with the line and column. Values are range-checked by `design(source:)`.
  public static func load(yaml text: String, source: String) throws(ScenarioError) -> ScenarioFile {
    guard let node = try YAMLBudget.compose(text, source: source) else { return ScenarioFile() }
    try KeyTree.scenario.check(node, path: [], source: source)
    do { return try YAMLDecoder().decode(ScenarioFile.self, from: node) } catch let error as DecodingError {
      let (path, reason) = describe(error)
      throw .type(source: source, position: position(of: path, in: node), key: dotted(path), reason: reason)
    } catch {
      throw YAMLErrorText.error(error, source: source)
    }
  }

  public static func load(path: String) throws(ScenarioError) -> ScenarioFile {
    var folder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &folder) else {
      throw .syntax(source: path, reason: "no such file")
    }
    guard !folder.boolValue else { throw .syntax(source: path, reason: "is a folder, not a scenario file") }
    // Read no more than the budget allows (a device such as /dev/zero never ends).
    guard let handle = FileHandle(forReadingAtPath: path),
      let data = (try? handle.read(upToCount: YAMLBudget.characters + 1)).map({ $0 ?? Data() })
    else { throw .syntax(source: path, reason: "cannot read the file") }
    try? handle.close()
    guard data.count <= YAMLBudget.characters else { throw YAMLBudget.tooLong(path) }
    guard let text = String(data: data, encoding: .utf8) else {
      throw .syntax(source: path, reason: "is not UTF-8 text")
    }
    return try load(yaml: text, source: path)
  }

  private static func describe(_ error: DecodingError) -> ([CodingKey], String) {
    switch error {
    case .typeMismatch(let type, let c): return (c.codingPath, "expected \(type)")
    case .valueNotFound(let type, let c): return (c.codingPath, "expected \(type)")
    case .keyNotFound(let key, let c): return (c.codingPath + [key], "missing")
    case .dataCorrupted(let c): return (c.codingPath, choices(c.debugDescription) ?? c.debugDescription)
    @unknown default: return ([], "\(error)")
    }
  }

  /// The values a scenario's named kinds may take, by type name.
  private static let kinds: [String: [String]] = [
    "Activation": Activation.allCases.map(\.rawValue), "Initializer": Initializer.allCases.map(\.rawValue),
    "ActivationScope": ActivationScope.allCases.map(\.rawValue), "Security": Security.allCases.map(\.rawValue),
    "Algorithm": Algorithm.allCases.map(\.rawValue), "AttackStart": AttackStart.allCases.map(\.rawValue),
    "FedAvgReading": FedAvgReading.allCases.map(\.rawValue), "AttackKind": AttackKind.allCases.map(\.rawValue),
  ]

  /// Foundation's "Cannot initialize T from invalid String value V" as "'V' is not one of …",
  /// for the kinds above; nil for any other description.
  static func choices(_ description: String) -> String? {
    let prefix = "Cannot initialize "
    guard description.hasPrefix(prefix), let from = description.range(of: " from invalid String value ") else { return nil }
    let type = String(description[description.index(description.startIndex, offsetBy: prefix.count)..<from.lowerBound])
    guard let values = kinds[type] else { return nil }
    return "'\(description[from.upperBound...])' is not one of \(values.joined(separator: ", "))"
  }

  static func dotted(_ path: [String]) -> String {
    path.reduce("") { $0.isEmpty || $1.hasPrefix("[") ? $0 + $1 : $0 + "." + $1 }
  }

  private static func dotted(_ path: [CodingKey]) -> String {
    dotted(path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue })
  }

  private static func position(of path: [CodingKey], in root: Node) -> ScenarioError.Position? {
    var node = root
    for key in path {
      if let i = key.intValue, case .sequence(let s) = node, i < s.count {
        node = s[i]
      } else if case .mapping(let m) = node, let v = m[key.stringValue] {
        node = v
      } else {
        break
      }
    }
    return node.mark.map { ScenarioError.Position(line: $0.line, column: $0.column) }
  }
}

/// The keys a scenario file may have, section by section (leaves have no children).
struct KeyTree: Sendable {
  var children: [String: KeyTree]
  var isLeaf: Bool { children.isEmpty }

  static func leaves(_ names: [String]) -> KeyTree {
    KeyTree(children: Dictionary(uniqueKeysWithValues: names.map { ($0, KeyTree(children: [:])) }))
  }

  static let scenario = KeyTree(children: [
    "name": .leaves([]), "seed": .leaves([]), "repeats": .leaves([]), "defenses": .leaves([]),
    "secure_aggregation": .leaves([]), "executor": .leaves([]), "slurm": .leaves(SlurmOptions.keys),
    "model": .leaves(ScenarioFile.ModelSection.keys),
    "dataset": .leaves(["path", "count", "partition", "alpha", "shards", "test_fraction"]),
    "federation": .leaves([
      "clients", "rounds", "algorithm", "local_batch", "epochs", "learning_rate", "sample", "deadline", "quorum", "host", "port", "security",
    ]),
    "attack": .leaves(["method", "iterations", "rounds", "victims", "restarts", "threshold", "fedavg_update", "start"]),
    "dp_sgd": .leaves(["clip", "noise_multiplier", "delta"]),
    "sweep": .leaves([
      "gaussian_noise", "laplace_noise", "clip", "prune", "quantize", "local_batch", "epochs", "dp_noise_multiplier", "attack_method", "attack_start",
      "dataset", "model", "combine", "fedavg_update", "partition",
    ]),
  ])

  /// Every mapping key in `node` must be one of this tree's; sections are checked inside.
  func check(_ node: Node, path: [String], source: String) throws(ScenarioError) {
    guard !isLeaf, case .mapping(let mapping) = node else { return }
    for (key, value) in mapping {
      let name = key.string ?? "\(key)"
      guard let sub = children[name] else {
        throw .unknownKey(
          source: source, position: key.mark.map { ScenarioError.Position(line: $0.line, column: $0.column) },
          key: ScenarioFile.dotted(path + [name]))
      }
      try sub.check(value, path: path + [name], source: source)
    }
  }

  /// Whether `path` names a key (a section or a value).
  func contains(_ path: ArraySlice<String>) -> Bool {
    guard let first = path.first else { return true }
    guard let sub = children[first] else { return false }
    return sub.contains(path.dropFirst())
  }
}
