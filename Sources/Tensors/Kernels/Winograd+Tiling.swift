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
