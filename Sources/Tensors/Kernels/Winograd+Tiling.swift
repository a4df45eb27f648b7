/// What Winograd's convolutions share whatever their tile (F(2×2, 3×3) in `Winograd.Plan`,
/// F(2, 7) along one axis in `LineWinograd.Plan`): a grid of tiles over a batch, tile `t` of
/// sample `b` being `b·perSample + t`, in blocks of 16 (`lanes` = the count rounded up to whole
/// blocks); the panels the transformed tiles and their products lie in (`Winograd.Panels`); and
/// the products between them (`Winograd+Products.swift`).
protocol WinogradTiling {
  var n: Int { get }
  /// Input planes (the products' reduction) and output planes.
  var channels: Int { get }
  var outputs: Int { get }
  var tilesDown: Int { get }
  var tilesAcross: Int { get }
  /// Elements of a transformed tile: one product each.
  static var planes: Int { get }
  /// The plane of the forward filters' transform that plane `ξ` of the turned filters' equals
  /// (`G J = P G`: turning a filter permutes its transform, for points closed under `p ↦ 1/p`).
  static func turnedPlane(_ xi: Int) -> Int
}

extension WinogradTiling {
  var perSample: Int { tilesDown * tilesAcross }
  var tiles: Int { n * perSample }
  var lanes: Int { (tiles + 15) / 16 * 16 }

  /// The layouts of the transformed tiles and of their products.
  var tilePanels: Winograd.Panels { Winograd.Panels(planes: Self.planes, rows: channels, blocks: lanes / 16) }
  var productPanels: Winograd.Panels { Winograd.Panels(planes: Self.planes, rows: outputs, blocks: lanes / 16) }
}

/// A 3×3 convolution's plan of F(2×2, 3×3) or F(4×4, 3×3) tiles, made from a layer's shape for
/// its forward pass or for its input gradient.
protocol WinogradPlanned: WinogradTiling {
  init(n: Int, channels: Int, height: Int, width: Int, padding: (Int, Int), outputs: Int, out: (Int, Int))
  var height: Int { get }
  var width: Int { get }
  var padding: (Int, Int) { get }
  /// The rows and columns of each plane's zero-padded copy, which the input transform reads.
  var paddedSize: (rows: Int, columns: Int) { get }
}

extension WinogradPlanned {
  /// The forward pass of `s` (its filter gradient's tiles are the same).
  static func forward(_ s: ConvShape) -> Self {
    Self(n: s.n, channels: s.c, height: s.h, width: s.w, padding: s.geo.padding, outputs: s.o, out: (s.oh, s.ow))
  }

  /// The input gradient of stride-1 `s`: the output gradient by the filters turned 180° with
  /// their channels swapped, padded `2 − p`.
  static func inputGradient(_ s: ConvShape) -> Self {
    let padding = (2 - s.geo.padding.0, 2 - s.geo.padding.1)
    return Self(n: s.n, channels: s.o, height: s.oh, width: s.ow, padding: padding, outputs: s.c, out: (s.h, s.w))
  }

  /// Calls `body` with a zero-padded copy of the planes of `x`, and `room` floats after it.
  func withPaddedInput<R>(_ x: UnsafePointer<Float>, room: Int = 0, _ body: (UnsafePointer<Float>) -> R) -> R {
    let (rows, columns) = paddedSize
    return Scratch.with(n * channels * rows * columns + room) { copy in
      Winograd.pad(
        UnsafeMutablePointer(mutating: x), planes: n * channels, height: height, width: width, padding: padding,
        into: copy, rows: rows, columns: columns)
      return body(copy)
    }
  }
}
