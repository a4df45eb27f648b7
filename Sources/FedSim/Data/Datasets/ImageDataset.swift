import Tensors

/// Labelled images held as bytes (0–255, channel-major: C×H×W per image), as the standard
/// formats store them. Convert a batch to a Float tensor with `images(_:transform:)`.
public struct ImageDataset: Sendable {
  /// The format the images were read from.
  public enum Format: String, Sendable, Codable {
    case idx = "IDX", cifar10 = "CIFAR-10 binary", cifar100 = "CIFAR-100 binary", shapes = "built-in shapes"
    case imageFolder = "PNG folder", svhn = "SVHN MATLAB"
  }

  public var source: String
  public var format: Format
  public var channels: Int
  public var height: Int
  public var width: Int
  public var pixels: [UInt8]
  public var labels: [Int]
  public var classNames: [String]

  public init(
    source: String, format: Format, channels: Int, height: Int, width: Int, pixels: [UInt8],
    labels: [Int], classNames: [String]
  ) {
    precondition(pixels.count == labels.count * channels * height * width, "pixels do not match the labels")
    (self.source, self.format, self.channels, self.height, self.width) = (source, format, channels, height, width)
    (self.pixels, self.labels, self.classNames) = (pixels, labels, classNames)
  }

  public var count: Int { labels.count }
  public var classes: Int { classNames.count }
  public var imageSize: Int { channels * height * width }
  public var shape: [Int] { [channels, height, width] }

  /// How many images each class has.
  public var classCounts: [Int] {
    var counts = [Int](repeating: 0, count: classes)
    for l in labels { counts[l] += 1 }
    return counts
  }

  /// The images at `indices` as an [n, C, H, W] tensor, through `transform`.
  public func images(_ indices: [Int], transform: ImageTransform = ImageTransform()) -> Tensor {
    var out = [Float](repeating: 0, count: indices.count * imageSize)
    for (k, i) in indices.enumerated() {
      precondition(i >= 0 && i < count, "image \(i) out of range 0..<\(count)")
      let base = i * imageSize
      for j in 0..<imageSize { out[k * imageSize + j] = Float(pixels[base + j]) / 255 }
    }
    return transform(Tensor(shape: [indices.count, channels, height, width], scalars: out))
  }

  /// The labels at `indices`.
  public func labels(_ indices: [Int]) -> [Int] { indices.map { labels[$0] } }

  /// The images at `indices` as a dataset of their own.
  public func subset(_ indices: [Int]) -> ImageDataset {
    var px = [UInt8]()
    px.reserveCapacity(indices.count * imageSize)
    for i in indices { px.append(contentsOf: pixels[(i * imageSize)..<((i + 1) * imageSize)]) }
    return ImageDataset(
      source: source, format: format, channels: channels, height: height, width: width, pixels: px,
      labels: indices.map { labels[$0] }, classNames: classNames)
  }
}

/// What is done to images after they are scaled to [0, 1], in torchvision's usual order: resize
/// (the shorter side to `resize`, keeping the aspect ratio; PIL's bilinear filter), centre crop to
/// `centerCrop`×`centerCrop`, then per-channel normalisation.
public struct ImageTransform: Sendable, Codable, Equatable {
  public var resize: Int?
  public var centerCrop: Int?
  /// The model's input normalisation (`Normalization.imageNet` for torchvision's models).
  public var normalization: Normalization?

  public init(resize: Int? = nil, centerCrop: Int? = nil, normalization: Normalization? = nil) {
    precondition((resize ?? 1) > 0 && (centerCrop ?? 1) > 0, "sizes must be positive")
    (self.resize, self.centerCrop, self.normalization) = (resize, centerCrop, normalization)
  }

  public init(resize: Int? = nil, centerCrop: Int? = nil, mean: [Float], std: [Float]) {
    self.init(resize: resize, centerCrop: centerCrop, normalization: Normalization(mean: mean, std: std))
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    var y = x
    if let resize {
      let (h, w) = (y.shape[2], y.shape[3])
      let (nh, nw) = h <= w ? (resize, Int(Double(resize) * Double(w) / Double(h))) : (Int(Double(resize) * Double(h) / Double(w)), resize)
      y = resized(y, height: nh, width: nw)
    }
    if let crop = centerCrop {
      let (h, w) = (y.shape[2], y.shape[3])
      if crop > h || crop > w {  // as torchvision: pad with zeros first
        let (ph, pw) = (Swift.max(0, crop - h), Swift.max(0, crop - w))
        y = y.padded(before: [0, 0, ph / 2, pw / 2], after: [0, 0, ph - ph / 2, pw - pw / 2])
      }
      // torchvision rounds with Python's round(): half to even.
      let top = Int((Double(y.shape[2] - crop) / 2).rounded(.toNearestOrEven))
      let left = Int((Double(y.shape[3] - crop) / 2).rounded(.toNearestOrEven))
      y = y.sliced(starts: [0, 0, top, left], ends: [y.shape[0], y.shape[1], top + crop, left + crop])
    }
    return normalization?.apply(y) ?? y
  }
}
