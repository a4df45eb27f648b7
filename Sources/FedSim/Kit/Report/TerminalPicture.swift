import FedSimCore
import Foundation
import Tensors

/// Pictures in a terminal: each character cell shows two pixels stacked, with the upper half
/// block "▀" in the upper pixel's 24-bit colour over the lower pixel's as background.
public enum TerminalPicture {
  /// Whether standard output is a terminal that takes colour (not `TERM=dumb`, no `NO_COLOR`).
  public static var colourTerminal: Bool {
    let env = ProcessInfo.processInfo.environment
    return isatty(1) == 1 && env["TERM"] != "dumb" && env["NO_COLOR"] == nil
  }

  /// The terminal's width in columns (80 when unknown).
  public static var columns: Int {
    var size = winsize()
    return ioctl(1, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
  }

  /// The terminal's height in rows (24 when unknown).
  public static var rows: Int {
    var size = winsize()
    return ioctl(1, UInt(TIOCGWINSZ), &size) == 0 && size.ws_row > 0 ? Int(size.ws_row) : 24
  }

  /// The drawn width (columns, one per pixel) that fits `count` square pictures of `width`
  /// pixels side by side within `columns` (gaps included) and, two pixels a row, within
  /// `lines` rows: as large as fits, up to `largest` times the picture, and smaller than it
  /// when the terminal is small (never wrapping, never scrolling).
  public static func fit(count: Int, width: Int, columns: Int, lines: Int = .max, gap: Int = 3, largest: Int = 4) -> Int {
    let room = (columns - 1 - gap * (count - 1)) / Swift.max(1, count)
    let tall = lines == .max ? Int.max : 2 * Swift.max(2, lines)
    return Swift.max(4, Swift.min(room, tall, width * largest))
  }

  /// `text` cut to `columns - 1` characters, so a status line never wraps.
  public static func clipped(_ text: String, columns: Int) -> String {
    text.count < columns ? text : String(text.prefix(Swift.max(1, columns - 2))) + "…"
  }

  /// Lines that draw images `[C, H, W]` (values in [0, 1], 1 or 3 channels) side by side, each
  /// enlarged `scale` times, with a caption above each (one line or several, split at "\n").
  public static func lines(_ images: [Tensor], captions: [String], scale: Int = 1, gap: Int = 3) -> [String] {
    lines(images, captions: captions, width: images[0].shape[2] * scale, gap: gap)
  }

  /// The same, each drawn `width` columns wide (nearest pixel, up or down; height in proportion).
  public static func lines(_ images: [Tensor], captions: [String], width w: Int, gap: Int = 3) -> [String] {
    let (sh, sw) = (images[0].shape[1], images[0].shape[2])
    let h = Swift.max(2, w * sh / Swift.max(1, sw))
    func pixel(_ t: Tensor, _ y: Int, _ x: Int) -> (Int, Int, Int) {
      let c = t.shape[0]
      let (yy, xx) = (Swift.min(sh - 1, y * sh / h), Swift.min(sw - 1, x * sw / w))
      let v = (0..<3).map { k -> Int in
        let s = t.scalars[(Swift.min(k, c - 1) * t.shape[1] + yy) * t.shape[2] + xx]
        return Int((Swift.min(Swift.max(s, 0), 1) * 255).rounded())
      }
      return (v[0], v[1], v[2])
    }
    let pad = String(repeating: " ", count: gap)
    // A caption may have several lines ("\n"); each is cut or padded to the picture's width.
    let split = captions.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
    var out = (0..<(split.map(\.count).max() ?? 0)).map { k in
      split.map { lines in
        let c = k < lines.count ? lines[k] : ""
        return c.count > w ? String(c.prefix(w)) : c.padding(toLength: w, withPad: " ", startingAt: 0)
      }.joined(separator: pad)
    }
    for row in stride(from: 0, to: h, by: 2) {
      var line = ""
      for (i, image) in images.enumerated() {
        if i > 0 { line += pad }
        for x in 0..<w {
          let (r1, g1, b1) = pixel(image, row, x)
          let (r2, g2, b2) = row + 1 < h ? pixel(image, row + 1, x) : (0, 0, 0)
          line += trueColour
            ? "\u{1B}[38;2;\(r1);\(g1);\(b1)m\u{1B}[48;2;\(r2);\(g2);\(b2)m▀"
            : "\u{1B}[38;5;\(cube(r1, g1, b1))m\u{1B}[48;5;\(cube(r2, g2, b2))m▀"
        }
        line += "\u{1B}[0m"
      }
      out.append(line)
    }
    return out
  }

  /// Whether the terminal says it takes 24-bit colour (`COLORTERM=truecolor` or `24bit`);
  /// else pictures use the 256-colour palette, which every colour terminal has.
  public static var trueColour: Bool {
    let c = ProcessInfo.processInfo.environment["COLORTERM"]?.lowercased() ?? ""
    return c == "truecolor" || c == "24bit"
  }

  /// The nearest of the 256-colour palette's 6×6×6 cube (16–231) or grey ramp (232–255).
  public static func cube(_ r: Int, _ g: Int, _ b: Int) -> Int {
    func level(_ v: Int) -> Int { v < 48 ? 0 : v < 115 ? 1 : (v - 35) / 40 }
    let (lr, lg, lb) = (level(r), level(g), level(b))
    let steps = [0, 95, 135, 175, 215, 255]
    func square(_ d: Int) -> Int { d * d }
    let cubeError: Int = square(steps[lr] - r) + square(steps[lg] - g) + square(steps[lb] - b)
    let mean: Int = (r + g + b) / 3
    let grey: Int = Swift.min(23, Swift.max(0, (mean - 3) / 10))
    let greyValue: Int = 8 + 10 * grey
    let greyError: Int = square(greyValue - r) + square(greyValue - g) + square(greyValue - b)
    return greyError < cubeError ? 232 + grey : 16 + 36 * lr + 6 * lg + lb
  }

  /// A line's width on screen: its characters, escape sequences left out.
  public static func visibleWidth(_ line: String) -> Int {
    var count = 0
    var escape = false
    for ch in line {
      if escape {
        if ch.isLetter { escape = false }
      } else if ch == "\u{1B}" {
        escape = true
      } else {
        count += 1
      }
    }
    return count
  }
}
