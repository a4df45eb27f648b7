@testable import FedSimKit
import Foundation
import Tensors
import Testing

/// The demo's pictures at the sizes teachers' terminals have: never a line wider than the
/// terminal (a wrapped line turns the redraw into stripes), never taller than it.
@Suite("Terminal pictures")
struct TerminalPictureTests {
  @Test("2 and 3 pictures fit 80×24, 100×30, 120×40 and 200×60, scaled down or up", arguments: [(80, 24), (100, 30), (120, 40), (200, 60)])
  func fits(_ size: (Int, Int)) {
    let (columns, rows) = size
    let image = Tensor(shape: [3, 32, 32], scalars: (0..<(3 * 32 * 32)).map { Float($0 % 7) / 7 })
    for count in [2, 3] {
      let width = TerminalPicture.fit(count: count, width: 32, columns: columns, lines: rows - 5)
      let lines = TerminalPicture.lines(
        Array(repeating: image, count: count),
        captions: Array(repeating: "gaussian_noise=0.01, a caption longer than the picture\n9.0 dB", count: count), width: width)
      let widest = lines.map(TerminalPicture.visibleWidth).max() ?? 0
      #expect(widest < columns, "\(count) pictures at \(columns) columns: a line of \(widest)")
      // A heading, two caption lines, the pictures and the last line fill at most the screen.
      #expect(lines.count <= rows - 3, "\(count) pictures at \(rows) rows: \(lines.count) lines")
      #expect(lines[1].hasPrefix("9.0 dB "), "the second caption line under each picture: \(lines[1])")
    }
    // Large terminals get large pictures: 200×60 draws two pictures at least 3 times their size.
    if columns == 200 { #expect(TerminalPicture.fit(count: 2, width: 32, columns: 200, lines: 55) >= 96) }
    #expect(TerminalPicture.clipped(String(repeating: "x", count: 300), columns: columns).count < columns)
  }

  @Test("the 256-colour fallback picks the palette's nearest: cube corners, and greys from the ramp")
  func palette() {
    #expect(TerminalPicture.cube(255, 0, 0) == 196 && TerminalPicture.cube(0, 0, 255) == 21)
    #expect(TerminalPicture.cube(0, 0, 0) == 16 && TerminalPicture.cube(255, 255, 255) == 231)
    #expect(TerminalPicture.cube(128, 128, 128) == 244)  // the ramp's 128, not the cube's 135
    #expect(TerminalPicture.cube(95, 135, 175) == 16 + 36 * 1 + 6 * 2 + 3)
  }
}
