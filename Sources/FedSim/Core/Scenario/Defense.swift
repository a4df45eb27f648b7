/// One client-side defense with its setting. In a file it is a one-key mapping
/// (`{gaussian_noise: 0.01}`, `{quantize: int8}`).
public enum Defense: Sendable, Equatable, Codable {
  /// Adds N(0, σ²) to every value.
  case gaussianNoise(Float)
  /// Adds Laplace(0, b) to every value.
  case laplaceNoise(Float)
  /// Scales the whole update down to this L2 norm if it is longer.
  case clip(Float)
  /// Zeroes this fraction of the values smallest in magnitude, over all layers at once.
  case prune(Float)
  /// The same within each layer.
  case pruneLayer(Float)
  /// Rounds every value to half precision, or to 255 levels per tensor.
  case quantize(Quantization)

  public enum Quantization: String, Codable, Sendable, CaseIterable {
    case fp16, int8
  }

  /// The key naming this defense in a file.
  public var key: String {
    switch self {
    case .gaussianNoise: "gaussian_noise"
    case .laplaceNoise: "laplace_noise"
    case .clip: "clip"
    case .prune: "prune"
    case .pruneLayer: "prune_layer"
    case .quantize: "quantize"
    }
  }

  /// `key=value`, as summaries show it.
  public var label: String {
    switch self {
    case .gaussianNoise(let v), .laplaceNoise(let v), .clip(let v), .prune(let v), .pruneLayer(let v): "\(key)=\(v)"
    case .quantize(let q): "\(key)=\(q.rawValue)"
    }
  }

  /// The numeric setting, when there is one.
  public var value: Float? {
    switch self {
    case .gaussianNoise(let v), .laplaceNoise(let v), .clip(let v), .prune(let v), .pruneLayer(let v): v
    case .quantize: nil
    }
  }

  public static let keys = ["gaussian_noise", "laplace_noise", "clip", "prune", "prune_layer", "quantize"]

  /// The defense `key` with a numeric `value` (nil for an unknown key or for `quantize`).
  public static func numeric(_ key: String, _ value: Float) -> Defense? {
    switch key {
    case "gaussian_noise": .gaussianNoise(value)
    case "laplace_noise": .laplaceNoise(value)
    case "clip": .clip(value)
    case "prune": .prune(value)
    case "prune_layer": .pruneLayer(value)
    default: nil
    }
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: StringKey.self)
    guard c.allKeys.count == 1, let key = c.allKeys.first else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath, debugDescription: "needs exactly one of \(Self.keys.joined(separator: ", "))"))
    }
    guard Self.keys.contains(key.stringValue) else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath + [key], debugDescription: "is not a defense (\(Self.keys.joined(separator: ", ")))"))
    }
    if key.stringValue == "quantize" {
      self = .quantize(try c.decode(Quantization.self, forKey: key))
    } else if let d = Self.numeric(key.stringValue, try c.decode(Float.self, forKey: key)) {
      self = d
    } else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath + [key], debugDescription: "is not a defense (\(Self.keys.joined(separator: ", ")))"))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: StringKey.self)
    switch self {
    case .quantize(let q): try c.encode(q, forKey: StringKey(key))
    default: try c.encode(value, forKey: StringKey(key))
    }
  }
}
