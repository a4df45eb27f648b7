import CZlib
import Foundation

/// A minimal PNG encoder: 8-bit greyscale or RGB, no interlace, zlib-compressed scanlines with
/// filter type 0, CRC-checked chunks (ISO/IEC 15948).
public enum PNG {
  /// The largest image decoded: a side, and pixels in all (8192², 256 MiB as RGBA), so that a
  /// header cannot ask for more memory than a photo needs.
  public static let largestSide = 16_384
  public static let largestPixels = 1 << 26
  /// The eight bytes every PNG file begins with.
  public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
  /// The PNG bytes of an image whose `pixels` are row-major, channels interleaved (1 or 3).
  public static func encode(width: Int, height: Int, channels: Int, pixels: [UInt8]) -> [UInt8] {
    precondition(channels == 1 || channels == 3, "PNG.encode writes greyscale or RGB")
    var out = signatureAndHeader(width: width, height: height, channels: channels)
    appendChunk("IDAT", compressedScanlines(width: width, height: height, channels: channels, pixels: pixels), to: &out)
    appendChunk("IEND", [], to: &out)
    return out
  }

  /// An animated PNG (APNG: PNG plus acTL/fcTL/fdAT chunks; viewers without APNG show the first
  /// frame): frames of equal size, row-major and interleaved, frame i shown `delays[i]` seconds
  /// (the last delay repeats for frames beyond), looping forever.
  public static func encodeAnimation(
    width: Int, height: Int, channels: Int, frames: [[UInt8]], delays: [Double] = [0.1]
  ) -> [UInt8] {
    precondition(!frames.isEmpty && !delays.isEmpty, "an animation needs a frame and a delay")
    var out = signatureAndHeader(width: width, height: height, channels: channels)
    appendChunk("acTL", bigEndian(UInt32(frames.count)) + bigEndian(0), to: &out)
    var sequence: UInt32 = 0
    for (i, frame) in frames.enumerated() {
      let delay = delays[Swift.min(i, delays.count - 1)]
      let delayNumerator = UInt16(Swift.max(1, Swift.min(65535, (delay * 100).rounded())))
      var control = bigEndian(sequence) + bigEndian(UInt32(width)) + bigEndian(UInt32(height))
      control += bigEndian(0) + bigEndian(0)
      control += [UInt8(delayNumerator >> 8), UInt8(delayNumerator & 0xFF), 0, 100, 0, 0]  // delay/100 s, dispose none, blend source
      appendChunk("fcTL", control, to: &out)
      sequence += 1
      let data = compressedScanlines(width: width, height: height, channels: channels, pixels: frame)
      if i == 0 {
        appendChunk("IDAT", data, to: &out)
      } else {
        appendChunk("fdAT", bigEndian(sequence) + data, to: &out)
        sequence += 1
      }
    }
    appendChunk("IEND", [], to: &out)
    return out
  }

  private static func signatureAndHeader(width: Int, height: Int, channels: Int) -> [UInt8] {
    var out = signature
    var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
    header += [8, channels == 3 ? 2 : 0, 0, 0, 0]
    appendChunk("IHDR", header, to: &out)
    return out
  }

  /// Scanlines with filter type 0, zlib-compressed.
  private static func compressedScanlines(width: Int, height: Int, channels: Int, pixels: [UInt8]) -> [UInt8] {
    precondition(pixels.count == width * height * channels, "pixel count does not match the size")
    var raw = [UInt8]()
    raw.reserveCapacity(height * (1 + width * channels))
    for y in 0..<height {
      raw.append(0)  // filter: none
      raw.append(contentsOf: pixels[(y * width * channels)..<((y + 1) * width * channels)])
    }
    var bound = compressBound(uLong(raw.count))
    var compressed = [UInt8](repeating: 0, count: Int(bound))
    let status = compress2(&compressed, &bound, raw, uLong(raw.count), 6)
    precondition(status == Z_OK, "zlib compress2 failed (\(status))")
    compressed.removeSubrange(Int(bound)...)
    return compressed
  }

  /// Encodes an image given channel-major (C×H×W) bytes, as datasets and tensors hold them.
  public static func encode(channelMajor pixels: [UInt8], channels: Int, height: Int, width: Int) -> [UInt8] {
    var interleaved = [UInt8](repeating: 0, count: pixels.count)
    for c in 0..<channels {
      for i in 0..<(height * width) { interleaved[i * channels + c] = pixels[c * height * width + i] }
    }
    return encode(width: width, height: height, channels: channels, pixels: interleaved)
  }

  static func appendChunk(_ type: String, _ data: [UInt8], to out: inout [UInt8]) {
    let typeBytes = Array(type.utf8)
    out += bigEndian(UInt32(data.count))
    out += typeBytes
    out += data
    let body = typeBytes + data
    out += bigEndian(UInt32(crc32(0, body, uInt(body.count))))
  }

  static func bigEndian(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
  }
}

/// A grid of equally sized images with a 1-pixel gap, as one channel-major image; each tile
/// may be enlarged `scale` times (nearest neighbour), and a blank tile leaves its cell white.
public struct ImageGrid {
  public var channels: Int, height: Int, width: Int, columns: Int, scale: Int
  public private(set) var tiles: [[UInt8]?] = []

  public init(channels: Int, height: Int, width: Int, columns: Int, scale: Int = 1) {
    precondition(scale >= 1 && columns >= 1, "a grid needs a column and a scale of at least 1")
    (self.channels, self.height, self.width, self.columns, self.scale) = (channels, height, width, columns, scale)
  }

  public mutating func appendBlank() { tiles.append(nil) }

  public mutating func append(_ tile: [UInt8]) {
    precondition(tile.count == channels * height * width, "tile size differs from the grid's")
    tiles.append(tile)
  }

  /// The grid as PNG bytes (gaps are white).
  public func png() -> [UInt8] {
    let (w, h, px) = pixels()
    return PNG.encode(channelMajor: px, channels: channels, height: h, width: w)
  }

  /// The grid's size and channel-major pixels (gaps are white).
  public func pixels() -> (width: Int, height: Int, pixels: [UInt8]) {
    let rows = (tiles.count + columns - 1) / columns
    let (tw, th) = (width * scale, height * scale)
    let (gw, gh) = (columns * (tw + 1) + 1, rows * (th + 1) + 1)
    var px = [UInt8](repeating: 255, count: channels * gw * gh)
    for (k, tile) in tiles.enumerated() {
      guard let tile else { continue }
      let (ox, oy) = (1 + (k % columns) * (tw + 1), 1 + (k / columns) * (th + 1))
      for c in 0..<channels {
        for y in 0..<th {
          for x in 0..<tw {
            px[(c * gh + oy + y) * gw + ox + x] = tile[(c * height + y / scale) * width + x / scale]
          }
        }
      }
    }
    return (gw, gh, px)
  }
}
