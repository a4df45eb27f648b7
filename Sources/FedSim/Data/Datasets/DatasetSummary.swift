/// What `fedsim data info` reports about a dataset.
public struct DatasetSummary: Sendable, Codable {
  public var source: String
  public var format: String
  public var count: Int
  public var shape: [Int]
  public var classes: Int
  public var classCounts: [String: Int]

  public init(_ d: ImageDataset) {
    source = d.source
    format = d.format.rawValue
    count = d.count
    shape = d.shape
    classes = d.classes
    let counts = d.classCounts
    classCounts = Dictionary(uniqueKeysWithValues: d.classNames.enumerated().map { ($0.element, counts[$0.offset]) })
  }

  /// A few lines for a person.
  public func text(classNames: [String]) -> String {
    var lines = [
      "source:  \(source)", "format:  \(format)",
      "images:  \(count) of \(shape.map(String.init).joined(separator: "×"))",
      "classes: \(classes)",
    ]
    let counts = classNames.map { classCounts[$0] ?? 0 }
    if let lo = counts.min(), let hi = counts.max() {
      lines.append("balance: \(lo)–\(hi) images per class")
      if classes <= 20 {
        lines += classNames.map { "  \($0): \(classCounts[$0] ?? 0)" }
      }
    }
    return lines.joined(separator: "\n")
  }
}
