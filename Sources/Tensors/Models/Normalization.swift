import Foundation

/// A model's input normalisation, x' = (x − mean) / std per channel, as torchvision's
/// `Normalize`: the model sees x'; pictures and scores are in x ∈ [0, 1]. An attack optimises in
/// x' and is scored after `undo`.
public struct Normalization: Sendable, Codable, Equatable {
  public var mean: [Float]
  public var std: [Float]

  /// ImageNet's statistics, as torchvision's models and the DLG study use them.
  public static let imageNet = Normalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

  /// A normalisation the code states (one mean and one std per channel); values a user gives go
  /// through `init(mean:std:channels:)` or `parse`, which check them.
  public init(mean: [Float], std: [Float]) {
    precondition(!mean.isEmpty && mean.count == std.count, "one mean and one std per channel")
    (self.mean, self.std) = (mean, std)
  }

  /// A normalisation for `channels` channels; every std positive, every value finite.
  public init(mean: [Float], std: [Float], channels: Int) throws(NormalizationError) {
    guard mean.count == channels, std.count == channels else {
      throw .invalid("needs \(channels) means and \(channels) stds, one per channel (has \(mean.count) and \(std.count))")
    }
    guard mean.allSatisfy({ $0.isFinite && abs($0) <= 1000 }), std.allSatisfy({ $0.isFinite && $0 >= 1e-6 && $0 <= 1000 }) else {
      throw .invalid("means must be finite and stds in [1e-6, 1000]")
    }
    (self.mean, self.std) = (mean, std)
  }

  /// "imagenet", "none" (nil), or "M1,M2,M3/S1,S2,S3" for `channels` channels. ImageNet's
  /// statistics on a one-channel model are its mean over the channels.
  public static func parse(_ text: String, channels: Int) throws(NormalizationError) -> Normalization? {
    switch text.lowercased() {
    case "none", "": return nil
    case "imagenet":
      guard channels != 3 else { return .imageNet }
      guard channels == 1 else { throw .invalid("imagenet is for 1 or 3 channels, the images have \(channels)") }
      return Normalization(mean: [imageNet.mean.reduce(0, +) / 3], std: [imageNet.std.reduce(0, +) / 3])
    default:
      let parts = text.split(separator: "/", omittingEmptySubsequences: false)
      let numbers = parts.map { $0.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) } }
      guard parts.count == 2, let mean = numbers.first.flatMap({ $0.allSatisfy { $0 != nil } ? $0.compactMap { $0 } : nil }),
        let std = numbers.last.flatMap({ $0.allSatisfy { $0 != nil } ? $0.compactMap { $0 } : nil })
      else { throw .invalid("'\(UntrustedText.quoted(text))' is not imagenet, none, or MEAN,…/STD,… (e.g. 0.5,0.5,0.5/0.25,0.25,0.25)") }
      return try Normalization(mean: mean, std: std, channels: channels)
    }
  }

  /// How `parse` reads it back: "imagenet", or "M1,M2,M3/S1,S2,S3".
  public var text: String { self == .imageNet ? "imagenet" : Self.text(mean: mean, std: std) }

  /// "M1,M2,…/S1,S2,…", as `parse` reads it (the values unchecked).
  public static func text(mean: [Float], std: [Float]) -> String {
    mean.map { "\($0)" }.joined(separator: ",") + "/" + std.map { "\($0)" }.joined(separator: ",")
  }

  /// x' = (x − mean) / std for images `[B, C, H, W]`.
  public func apply(_ x: Tensor) -> Tensor {
    let c = x.shape[1]
    precondition(mean.count == c, "normalisation for \(mean.count) channels, images have \(c)")
    return (x - Tensor(shape: [1, c, 1, 1], scalars: mean)) / Tensor(shape: [1, c, 1, 1], scalars: std)
  }

  /// x = x' · std + mean: back to pixels.
  public func undo(_ x: Tensor) -> Tensor {
    let c = x.shape[1]
    precondition(mean.count == c, "normalisation for \(mean.count) channels, images have \(c)")
    return x * Tensor(shape: [1, c, 1, 1], scalars: std) + Tensor(shape: [1, c, 1, 1], scalars: mean)
  }

  /// The smallest range holding every channel's image of [0, 1] (where a boxed attack may move).
  public var inputRange: ClosedRange<Float> {
    let lows = zip(mean, std).map { -$0 / $1 }, highs = zip(mean, std).map { (1 - $0) / $1 }
    return (lows.min() ?? 0)...(highs.max() ?? 1)
  }
}

public enum NormalizationError: Error, Equatable, CustomStringConvertible {
  case invalid(String)
  public var description: String {
    switch self { case .invalid(let why): "normalisation: \(why)" }
  }
}
