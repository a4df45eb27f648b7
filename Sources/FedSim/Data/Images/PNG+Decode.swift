import CZlib
import Foundation
import Tensors

/// A decoded image: channel-major bytes (C×H×W), greyscale (1 channel) or RGB (3).
public struct DecodedImage: Sendable, Equatable {
  public var width: Int, height: Int, channels: Int
  public var pixels: [UInt8]

  public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
    (self.width, self.height, self.channels, self.pixels) = (width, height, channels, pixels)
  }
}

extension PNG {
  /// Decodes a PNG file: greyscale, RGB, palette (1–8 bits) and their alpha forms, 8 or 16 bits
  /// per sample, not interlaced. Alpha is dropped; 16-bit samples keep their high byte. Every
  /// chunk's CRC is checked; any fault is an error naming `path`.
  public static func decode(_ bytes: [UInt8], path: String) throws(DatasetError) -> DecodedImage {
    func fail(_ why: String) -> DatasetError { .malformed(path: path, reason: "not a readable PNG: \(why)") }
    let file = try PNGChunks(bytes, fail)
    let h = try PNGHeader(file, fail)
    let raw: [UInt8]
    do { raw = try Inflate.decompress(file.compressed, path: path, expectedSize: h.height * (h.stride + 1)) } catch {
      throw fail("image data: \(error)")
    }
    guard raw.count >= h.height * (h.stride + 1) else { throw fail("image data holds \(raw.count) bytes, needs \(h.height * (h.stride + 1))") }
    return try h.pixels(h.unfiltered(raw, fail), palette: file.palette, fail)
  }

  /// Reads and decodes a PNG file.
  public static func read(_ path: String) throws(DatasetError) -> DecodedImage {
    let bytes: [UInt8]
    do { bytes = try FileInput.bytes(path) } catch { throw .unreadable(path: path, reason: error.reason) }
    return try decode(bytes, path: path)
  }
}

extension PNG {
  /// Decodes every frame of an animated PNG (full-size frames, as `encodeAnimation` writes
  /// them), and the frame count its acTL chunk declares. A plain PNG is one frame.
  public static func decodeAnimation(_ bytes: [UInt8], path: String) throws(DatasetError) -> (declared: Int, frames: [DecodedImage]) {
    func fail(_ why: String) -> DatasetError { .malformed(path: path, reason: "not a readable APNG: \(why)") }
    guard bytes.starts(with: PNG.signature) else { throw fail("no PNG signature") }
    func be32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
    var header: [UInt8] = []
    var declared = 1
    var parts: [[UInt8]] = []  // compressed data of each frame
    var at = 8
    while at + 8 <= bytes.count {
      let length = be32(at)
      guard at + 12 + length <= bytes.count else { throw fail("chunk at byte \(at) runs past the end") }
      let type = String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self)
      let body = Array(bytes[(at + 8)..<(at + 8 + length)])
      switch type {
      case "IHDR": header = body
      case "acTL": declared = body.count >= 4 ? Int(body[0]) << 24 | Int(body[1]) << 16 | Int(body[2]) << 8 | Int(body[3]) : 0
      case "fcTL": parts.append([])
      case "IDAT":
        if parts.isEmpty { parts.append([]) }
        parts[parts.count - 1] += body
      case "fdAT":
        guard !parts.isEmpty, body.count >= 4 else { throw fail("fdAT before any fcTL") }
        parts[parts.count - 1] += body.dropFirst(4)
      default: break
      }
      at += 12 + length
    }
    guard !header.isEmpty else { throw fail("no IHDR") }
    let frames = try parts.map { (data: [UInt8]) throws(DatasetError) -> DecodedImage in
      var png = PNG.signature
      appendChunk("IHDR", header, to: &png)
      appendChunk("IDAT", data, to: &png)
      appendChunk("IEND", [], to: &png)
      return try decode(png, path: path)
    }
    return (declared, frames)
  }
}

/// A PNG's chunks that matter, every CRC checked: the header's 13 bytes, the palette and the
/// concatenated image data, up to IEND.
struct PNGChunks {
  var header: [UInt8] = []
  var palette: [UInt8] = []
  var compressed: [UInt8] = []

  init(_ bytes: [UInt8], _ fail: (String) -> DatasetError) throws(DatasetError) {
    guard bytes.starts(with: PNG.signature) else { throw fail("no PNG signature") }
    func be32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
    var offset = 8
    var ended = false
    while offset < bytes.count && !ended {
      guard offset + 12 <= bytes.count else { throw fail("truncated chunk header at byte \(offset)") }
      let length = be32(offset)
      let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
      guard length >= 0, offset + 12 + length <= bytes.count else { throw fail("chunk \(UntrustedText.quoted(type)) runs past the end (truncated?)") }
      let body = Array(bytes[(offset + 8)..<(offset + 8 + length)])
      let crc = UInt32(truncatingIfNeeded: be32(offset + 8 + length))
      let computed = bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress! + offset + 4, uInt(length + 4))) }
      guard crc == computed else { throw fail("bad CRC in chunk \(UntrustedText.quoted(type))") }
      switch type {
      case "IHDR":
        guard length == 13 else { throw fail("IHDR has \(length) bytes") }
        header = body
      case "PLTE": palette = body
      case "IDAT": compressed += body
      case "IEND": ended = true
      default: break
      }
      offset += 12 + length
    }
    guard !header.isEmpty else { throw fail("no IHDR chunk") }
    guard ended else { throw fail("no IEND chunk (truncated?)") }
  }
}

/// The image a PNG header describes, checked: size within FedSim's bounds, a known colour type
/// with a depth it allows, a palette when it needs one.
struct PNGHeader {
  var width: Int, height: Int, depth: Int, colorType: Int, samples: Int

  init(_ file: PNGChunks, _ fail: (String) -> DatasetError) throws(DatasetError) {
    let b = file.header
    func be32(_ i: Int) -> Int { Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3]) }
    (width, height, depth, colorType) = (be32(0), be32(4), Int(b[8]), Int(b[9]))
    guard b[12] == 0 else { throw fail("interlaced images are not supported") }
    guard width > 0, height > 0 else { throw fail("empty image \(width)×\(height)") }
    guard width <= PNG.largestSide, height <= PNG.largestSide, width * height <= PNG.largestPixels else {
      throw fail("\(width)×\(height) is larger than FedSim reads (\(PNG.largestSide) a side, \(PNG.largestPixels) pixels)")
    }
    switch colorType {
    case 0, 3: samples = 1
    case 2: samples = 3
    case 4: samples = 2
    case 6: samples = 4
    default: throw fail("unknown colour type \(colorType)")
    }
    let validDepth = colorType == 3 ? [1, 2, 4, 8].contains(depth) : [8, 16].contains(depth)
    guard validDepth else { throw fail("bit depth \(depth) with colour type \(colorType) is not supported") }
    if colorType == 3 && file.palette.isEmpty { throw fail("palette image without PLTE") }
  }

  var bitsPerPixel: Int { samples * depth }
  /// Bytes per row, without the filter byte.
  var stride: Int { (width * bitsPerPixel + 7) / 8 }

  /// The rows with each one's filter undone (`raw`: a filter byte, then `stride` bytes, per row).
  func unfiltered(_ raw: [UInt8], _ fail: (String) -> DatasetError) throws(DatasetError) -> [UInt8] {
    let (stride, bpp) = (self.stride, max(1, bitsPerPixel / 8))
    var rows = [UInt8](repeating: 0, count: height * stride)
    for y in 0..<height {
      let filter = raw[y * (stride + 1)]
      let (src, dst) = (y * (stride + 1) + 1, y * stride)
      for x in 0..<stride {
        let a = x >= bpp ? Int(rows[dst + x - bpp]) : 0
        let b = y > 0 ? Int(rows[dst - stride + x]) : 0
        let c = (x >= bpp && y > 0) ? Int(rows[dst - stride + x - bpp]) : 0
        let predictor: Int
        switch filter {
        case 0: predictor = 0
        case 1: predictor = a
        case 2: predictor = b
        case 3: predictor = (a + b) / 2
        case 4:
          let p = a + b - c
          let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
          predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
        default: throw fail("unknown filter type \(filter) in row \(y)")
        }
        rows[dst + x] = UInt8(truncatingIfNeeded: Int(raw[src + x]) + predictor)
      }
    }
    return rows
  }

  /// Channel-major bytes (1 or 3 channels; alpha dropped, 16-bit samples by their high byte).
  func pixels(_ rows: [UInt8], palette: [UInt8], _ fail: (String) -> DatasetError) throws(DatasetError) -> DecodedImage {
    let channels = (colorType == 2 || colorType == 3 || colorType == 6) ? 3 : 1
    var pixels = [UInt8](repeating: 0, count: channels * width * height)
    let plane = width * height
    for y in 0..<height {
      for x in 0..<width {
        let i = y * width + x
        if colorType == 3 {
          let bit = x * depth
          let index = Int(rows[y * stride + bit / 8] >> (8 - depth - bit % 8)) & ((1 << depth) - 1)
          guard 3 * index + 2 < palette.count else { throw fail("palette index \(index) outside the \(palette.count / 3)-entry palette") }
          for c in 0..<3 { pixels[c * plane + i] = palette[3 * index + c] }
        } else {
          for c in 0..<channels { pixels[c * plane + i] = rows[y * stride + (x * samples + c) * (depth / 8)] }
        }
      }
    }
    return DecodedImage(width: width, height: height, channels: channels, pixels: pixels)
  }
}
