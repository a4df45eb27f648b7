/// A coding key of any name, for values whose keys are read rather than declared: a defense's one
/// key, a model sweep's extra keys, a normalisation's `mean` and `std`.
public struct StringKey: CodingKey, Sendable {
  public var stringValue: String
  public var intValue: Int? { nil }
  public init(_ name: String) { stringValue = name }
  public init(stringValue: String) { self.stringValue = stringValue }
  public init?(intValue: Int) { nil }
}
