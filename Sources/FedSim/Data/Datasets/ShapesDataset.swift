import Tensors

extension ImageDataset {
  /// The class names of the built-in dataset.
  public static let shapeClasses = [
    "disc", "square", "triangle", "cross", "ring", "horizontal stripes", "vertical stripes",
    "checkerboard", "diagonal bar", "two discs",
  ]

  /// A generated dataset of coloured shapes on coloured backgrounds (32×32 RGB, 10 classes),
  /// the same for the same seed on every machine, so the default run needs no download.
  /// Position, size, both colours and a little pixel noise vary per image.
  public static func shapes(count: Int, seed: UInt64 = 0, size: Int = 32) -> ImageDataset {
    var gen = SeededGenerator(seed: seed)
    var pixels = [UInt8](repeating: 0, count: count * 3 * size * size)
    var labels = [Int](repeating: 0, count: count)
    let s = Float(size)
    for n in 0..<count {
      let label = n % shapeClasses.count
      labels[n] = label
      let background = (0..<3).map { _ in 0.1 + 0.35 * gen.nextUnitFloat() }
      var foreground = (0..<3).map { _ in 0.45 + 0.55 * gen.nextUnitFloat() }
      foreground[Int(gen.next() % 3)] *= 0.3  // a saturated hue, never grey
      let cx = s / 2 + (gen.nextUnitFloat() - 0.5) * s / 4
      let cy = s / 2 + (gen.nextUnitFloat() - 0.5) * s / 4
      let r = s * (0.22 + 0.12 * gen.nextUnitFloat())
      let period = Float(3 + Int(gen.next() % 3))
      for y in 0..<size {
        for x in 0..<size {
          let (dx, dy) = (Float(x) + 0.5 - cx, Float(y) + 0.5 - cy)
          let d = (dx * dx + dy * dy).squareRoot()
          let inside: Bool
          switch label {
          case 0: inside = d < r
          case 1: inside = Swift.abs(dx) < r * 0.85 && Swift.abs(dy) < r * 0.85
          case 2: inside = dy < r * 0.7 && dy > -r && Swift.abs(dx) < (dy + r) * 0.6
          case 3: inside = (Swift.abs(dx) < r * 0.3 && Swift.abs(dy) < r) || (Swift.abs(dy) < r * 0.3 && Swift.abs(dx) < r)
          case 4: inside = d < r && d > r * 0.6
          case 5: inside = Int((Float(y) / period).rounded(.down)) % 2 == 0
          case 6: inside = Int((Float(x) / period).rounded(.down)) % 2 == 0
          case 7: inside = (Int(Float(x) / (period + 1)) + Int(Float(y) / (period + 1))) % 2 == 0
          case 8: inside = Swift.abs(dx - dy) < r * 0.45 && d < r * 1.3
          default:
            let e = (dx - r * 0.6) * (dx - r * 0.6) + dy * dy
            let w = (dx + r * 0.6) * (dx + r * 0.6) + dy * dy
            inside = e < r * r * 0.2 || w < r * r * 0.2
          }
          for c in 0..<3 {
            let v = (inside ? foreground[c] : background[c]) + 0.03 * gen.nextNormal()
            pixels[((n * 3 + c) * size + y) * size + x] = UInt8(Swift.max(0, Swift.min(255, (v * 255).rounded())))
          }
        }
      }
    }
    return ImageDataset(
      source: "built-in shapes (seed \(seed))", format: .shapes, channels: 3, height: size, width: size,
      pixels: pixels, labels: labels, classNames: shapeClasses)
  }
}
