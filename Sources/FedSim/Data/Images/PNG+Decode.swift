import CZlib
import Foundation

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
    let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { throw fail("no PNG signature") }
    func be32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }

    var (width, height, depth, colorType) = (0, 0, 0, -1)
    var palette: [UInt8] = []
    var compressed: [UInt8] = []
    var offset = 8
    var ended = false
    while offset < bytes.count {
      guard offset + 12 <= bytes.count else { throw fail("truncated chunk header at byte \(offset)") }
      let length = be32(offset)
      let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
      guard length >= 0, offset + 12 + length <= bytes.count else { throw fail("chunk \(type) runs past the end (truncated?)") }
      let body = Array(bytes[(offset + 8)..<(offset + 8 + length)])
      let crc = UInt32(truncatingIfNeeded: be32(offset + 8 + length))
      let computed = bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress! + offset + 4, uInt(length + 4))) }
      guard crc == computed else { throw fail("bad CRC in chunk \(type)") }
      switch type {
      case "IHDR":
        guard length == 13 else { throw fail("IHDR has \(length) bytes") }
        (width, height, depth, colorType) = (be32(offset + 8), be32(offset + 12), Int(body[8]), Int(body[9]))
        guard body[12] == 0 else { throw fail("interlaced images are not supported") }
      case "PLTE": palette = body
      case "IDAT": compressed += body
      case "IEND": ended = true
      default: break
      }
      offset += 12 + length
      if ended { break }
    }
    guard colorType >= 0 else { throw fail("no IHDR chunk") }
    guard ended else { throw fail("no IEND chunk (truncated?)") }
    guard width > 0, height > 0 else { throw fail("empty image \(width)×\(height)") }
    guard width <= PNG.largestSide, height <= PNG.largestSide, width * height <= PNG.largestPixels else {
      throw fail("\(width)×\(height) is larger than FedSim reads (\(PNG.largestSide) a side, \(PNG.largestPixels) pixels)")
    }
    let samples: Int
    switch colorType {
    case 0: samples = 1
    case 2: samples = 3
    case 3: samples = 1
    case 4: samples = 2
    case 6: samples = 4
    default: throw fail("unknown colour type \(colorType)")
    }
    let validDepth = colorType == 3 ? [1, 2, 4, 8].contains(depth) : (colorType == 0 ? [8, 16].contains(depth) : [8, 16].contains(depth))
    guard validDepth else { throw fail("bit depth \(depth) with colour type \(colorType) is not supported") }
    if colorType == 3 && palette.isEmpty { throw fail("palette image without PLTE") }

    let bitsPerPixel = samples * depth
    let stride = (width * bitsPerPixel + 7) / 8
    let bpp = max(1, bitsPerPixel / 8)
    let raw: [UInt8]
    do { raw = try Inflate.decompress(compressed, path: path, expectedSize: height * (stride + 1)) } catch {
      throw fail("image data: \(error)")
    }
    guard raw.count >= height * (stride + 1) else { throw fail("image data holds \(raw.count) bytes, needs \(height * (stride + 1))") }

    // Undo the per-row filters.
    var rows = [UInt8](repeating: 0, count: height * stride)
    for y in 0..<height {
      let filter = raw[y * (stride + 1)]
      let src = y * (stride + 1) + 1
      let dst = y * stride
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

    // Samples to channel-major bytes.
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
          let bytesPerSample = depth / 8
          for c in 0..<channels { pixels[c * plane + i] = rows[y * stride + (x * samples + c) * bytesPerSample] }
        }
      }
    }
    return DecodedImage(width: width, height: height, channels: channels, pixels: pixels)
  }

  /// Reads and decodes a PNG file.
  public static func read(_ path: String) throws(DatasetError) -> DecodedImage {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw .unreadable(path: path, reason: "no such file or not readable")
    }
    return try decode(Array(data), path: path)
  }
}

extension PNG {
  /// Decodes every frame of an animated PNG (full-size frames, as `encodeAnimation` writes
  /// them), and the frame count its acTL chunk declares. A plain PNG is one frame.
  public static func decodeAnimation(_ bytes: [UInt8], path: String) throws(DatasetError) -> (declared: Int, frames: [DecodedImage]) {
    func fail(_ why: String) -> DatasetError { .malformed(path: path, reason: "not a readable APNG: \(why)") }
    guard bytes.count >= 8, Array(bytes[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { throw fail("no PNG signature") }
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
      var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
      appendChunk("IHDR", header, to: &png)
      appendChunk("IDAT", data, to: &png)
      appendChunk("IEND", [], to: &png)
      return try decode(png, path: path)
    }
    return (declared, frames)
  }
}
