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

  /// Lines that draw images `[C, H, W]` (values in [0, 1], 1 or 3 channels) side by side, each
  /// enlarged `scale` times, with a caption above each.
  public static func lines(_ images: [Tensor], captions: [String], scale: Int = 1, gap: Int = 3) -> [String] {
    let (h, w) = (images[0].shape[1] * scale, images[0].shape[2] * scale)
    func pixel(_ t: Tensor, _ y: Int, _ x: Int) -> (Int, Int, Int) {
      let c = t.shape[0]
      let (yy, xx) = (y / scale, x / scale)
      let v = (0..<3).map { k -> Int in
        let s = t.scalars[(Swift.min(k, c - 1) * t.shape[1] + yy) * t.shape[2] + xx]
        return Int((Swift.min(Swift.max(s, 0), 1) * 255).rounded())
      }
      return (v[0], v[1], v[2])
    }
    let pad = String(repeating: " ", count: gap)
    var out = [captions.map { $0.count > w ? String($0.prefix(w)) : $0.padding(toLength: w, withPad: " ", startingAt: 0) }.joined(separator: pad)]
    let scalars = images.map { $0 }
    for row in stride(from: 0, to: h, by: 2) {
      var line = ""
      for (i, image) in scalars.enumerated() {
        if i > 0 { line += pad }
        for x in 0..<w {
          let (r1, g1, b1) = pixel(image, row, x)
          let (r2, g2, b2) = row + 1 < h ? pixel(image, row + 1, x) : (0, 0, 0)
          line += "\u{1B}[38;2;\(r1);\(g1);\(b1)m\u{1B}[48;2;\(r2);\(g2);\(b2)m▀"
        }
        line += "\u{1B}[0m"
      }
      out.append(line)
    }
    return out
  }
}
