import FedSimCore
import Tensors

extension ScenarioFile {
  /// A model section's `normalize`: `imagenet`, `none`, `M1,M2,M3/S1,S2,S3`, or a mapping
  /// `{mean: [M1, M2, M3], std: [S1, S2, S3]}`, kept as the text `Normalization.parse` reads (and
  /// written back as that text).
  public struct NormalizeSetting: Codable, Sendable, Equatable, ExpressibleByStringLiteral {
    public var text: String

    public init(_ text: String) { self.text = text }
    public init(stringLiteral text: String) { self.text = text }

    public init(from decoder: Decoder) throws {
      if let text = try? decoder.singleValueContainer().decode(String.self) {
        self.text = text
        return
      }
      guard let keyed = try? decoder.container(keyedBy: StringKey.self) else {
        throw DecodingError.dataCorrupted(
          .init(
            codingPath: decoder.codingPath,
            debugDescription: "expected imagenet, none, MEAN,…/STD,… or {mean: [...], std: [...]}"))
      }
      for key in keyed.allKeys where !["mean", "std"].contains(key.stringValue) {
        throw DecodingError.dataCorruptedError(
          forKey: key, in: keyed, debugDescription: "'\(key.stringValue)' is not a normalisation key (mean, std)")
      }
      self.text = Normalization.text(
        mean: try keyed.decode([Float].self, forKey: StringKey("mean")),
        std: try keyed.decode([Float].self, forKey: StringKey("std")))
    }

    public func encode(to encoder: Encoder) throws {
      var single = encoder.singleValueContainer()
      try single.encode(text)
    }
  }
}
