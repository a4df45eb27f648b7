extension ModelZoo {
  /// The side of the smallest map a batch norm of `spec`'s model normalises (its last stage's,
  /// as torchvision's layers shrink the input), or nil for a model without batch norm. Batch
  /// statistics over `batch` images see `batch · side²` values a channel.
  public static func smallestNormalisedSide(_ spec: ModelSpec) -> Int? {
    func out(_ n: Int, kernel k: Int, stride s: Int, padding p: Int) -> Int { Swift.max(0, (n + 2 * p - k) / s + 1) }
    var o = spec.imageSize
    switch spec.name {
    case "resnet18":
      if spec.resNetStem == .imagenet {
        o = out(out(o, kernel: 7, stride: 2, padding: 3), kernel: 3, stride: 2, padding: 1)
      }
      for _ in 0..<3 { o = out(o, kernel: 3, stride: 2, padding: 1) }  // layer2 to layer4
    case "densenet121":
      o = out(out(o, kernel: 7, stride: 2, padding: 3), kernel: 3, stride: 2, padding: 1)
      for _ in 0..<3 { o /= 2 }  // the transitions' 2×2 pooling
    case "inception_v3":
      o = out(o, kernel: 3, stride: 2, padding: 0) - 2  // Conv2d_1a, 2a (2b keeps the size)
      o = out(o, kernel: 3, stride: 2, padding: 0) - 2  // maxpool1, Conv2d_4a (3b keeps it)
      for _ in 0..<3 { o = out(o, kernel: 3, stride: 2, padding: 0) }  // maxpool2, Mixed_6a, Mixed_7a
    default:
      return nil
    }
    return o
  }

  /// The fewest images a training batch of `spec`'s model may hold: 2 where its last batch norm
  /// normalises a 1×1 map (one image would give it one value a channel), else 1.
  public static func smallestBatch(_ spec: ModelSpec) -> Int {
    (smallestNormalisedSide(spec) ?? 2) <= 1 ? 2 : 1
  }

  /// `check(spec)`, and that batch statistics over `batch` images see more than one value a
  /// channel in every batch norm (`smallestBatch`): with one, each normalised value is 0
  /// whatever the input (the gradient to the input vanishes), and PyTorch refuses such a batch
  /// in training.
  public static func check(_ spec: ModelSpec, batch: Int) throws(ModelError) {
    try check(spec)
    guard batch < smallestBatch(spec) else { return }
    let side = smallestSideForOneImage(spec)
    throw .unsupported(
      spec.name,
      reason: "at a batch of 1 and \(spec.imageSize)×\(spec.imageSize) images its last batch norm would normalise one "
        + "value a channel (a 1×1 map), which PyTorch refuses in training: use a batch of 2 or more, or images of at least "
        + "\(side)×\(side)")
  }

  /// The smallest image side (up to 4,096) at which `spec`'s model trains on one image at a time
  /// (`smallestBatch` 1).
  public static func smallestSideForOneImage(_ spec: ModelSpec) -> Int {
    var larger = spec
    while larger.imageSize < 4096, smallestBatch(larger) > 1 { larger.imageSize += 1 }
    return larger.imageSize
  }
}
