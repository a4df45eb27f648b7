import FedSimCore
import Foundation

extension ScenarioFile {
  /// One value of a model sweep: a zoo model's name, or a model section with, where the model
  /// needs its own, a local batch (Inception-v3's batch norm needs two images) and an attack
  /// budget (`iterations`, for the costly models).
  public struct ModelChoice: Codable, Sendable, Equatable {
    public var model: ModelSection
    public var localBatch: Int?
    public var iterations: Int?
    static let extraKeys = ["local_batch", "iterations"]

    public init(model: ModelSection, localBatch: Int? = nil, iterations: Int? = nil) {
      (self.model, self.localBatch, self.iterations) = (model, localBatch, iterations)
    }

    public init(from decoder: Decoder) throws {
      if let name = try? decoder.singleValueContainer().decode(String.self) {
        var m = ModelSection()
        m.name = name
        self.init(model: m)
        return
      }
      let keyed = try decoder.container(keyedBy: StringKey.self)
      let allowed = ModelSection.keys + Self.extraKeys
      for key in keyed.allKeys where !allowed.contains(key.stringValue) {
        throw DecodingError.dataCorruptedError(
          forKey: key, in: keyed, debugDescription: "'\(key.stringValue)' is not a model sweep key (\(allowed.joined(separator: ", ")))")
      }
      self.init(
        model: try ModelSection(from: decoder),
        localBatch: try keyed.decodeIfPresent(Int.self, forKey: StringKey("local_batch")),
        iterations: try keyed.decodeIfPresent(Int.self, forKey: StringKey("iterations")))
    }

    public func encode(to encoder: Encoder) throws {
      try model.encode(to: encoder)
      var keyed = encoder.container(keyedBy: StringKey.self)
      try keyed.encodeIfPresent(localBatch, forKey: StringKey("local_batch"))
      try keyed.encodeIfPresent(iterations, forKey: StringKey("iterations"))
    }

    /// The point's label: the name, and the size when one is set.
    var label: String { (model.name ?? "lenet") + (model.size.map { "-\($0)" } ?? "") }
  }
}

extension ScenarioFile.ModelSection {
  /// `self`'s keys where it sets them, `base`'s elsewhere: a model sweep's value over the file's
  /// own model section.
  func overlaid(on base: Self) -> Self {
    var m = base
    m.name = name ?? base.name
    m.activation = activation ?? base.activation
    m.classes = classes ?? base.classes
    m.initializer = initializer ?? base.initializer
    m.size = size ?? base.size
    m.normalize = normalize ?? base.normalize
    m.activationScope = activationScope ?? base.activationScope
    m.auxiliaryHead = auxiliaryHead ?? base.auxiliaryHead
    return m
  }
}
