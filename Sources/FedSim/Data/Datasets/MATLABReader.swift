import Foundation
import Tensors

/// A numeric array read from a MATLAB level-5 MAT-file.
struct MATLABArray {
  var dimensions: [Int]
  /// The real part as Double, in MATLAB's column-major order.
  var values: [Double]
  /// The raw bytes when the array's class is uint8 (kept exact and compact for images).
  var bytes: [UInt8]?
}

/// Reads the numeric arrays of a MATLAB level-5 MAT-file (little-endian), including
/// zlib-compressed elements (miCOMPRESSED), as SVHN's `*_32x32.mat` files hold them.
enum MATLABFile {
  static func read(_ path: String) throws(DatasetError) -> [String: MATLABArray] {
    let bytes: [UInt8]
    do { bytes = try FileInput.bytes(path) } catch { throw .unreadable(path: path, reason: error.reason) }
    func fail(_ why: String) -> DatasetError { .malformed(path: path, reason: "not a readable MATLAB v5 file: \(why)") }
    guard bytes.count >= 128, String(decoding: bytes[0..<10], as: UTF8.self).hasPrefix("MATLAB 5.0") else {
      throw fail("no 'MATLAB 5.0 MAT-file' header")
    }
    guard bytes[126] == UInt8(ascii: "I") && bytes[127] == UInt8(ascii: "M") else {
      throw fail("big-endian files are not supported")
    }
    var arrays: [String: MATLABArray] = [:]
    var offset = 128
    while offset < bytes.count {
      let (type, size, start, next) = try tag(bytes, at: offset, fail)
      var element = Array(bytes[start..<(start + size)])
      var elementType = type
      if type == 15 {  // miCOMPRESSED: a zlib stream holding one element
        do { element = try Inflate.decompress(element, path: path) } catch {
          throw fail("compressed element at byte \(offset): \(error)")
        }
        let (innerType, innerSize, innerStart, _) = try tag(element, at: 0, fail)
        elementType = innerType
        element = Array(element[innerStart..<(innerStart + innerSize)])
      }
      if elementType == 14, let (name, array) = try matrix(element, fail) { arrays[name] = array }
      offset = type == 15 ? start + size : next
    }
    return arrays
  }

  /// A data element's tag: type, byte size, where its data starts, and where the next element
  /// starts (8-byte aligned). Handles the small-element form (data packed into the tag).
  static func tag(_ b: [UInt8], at i: Int, _ fail: (String) -> DatasetError) throws(DatasetError) -> (Int, Int, Int, Int) {
    guard i + 8 <= b.count else { throw fail("truncated element tag at byte \(i)") }
    let first = u32(b, i)
    if first >> 16 != 0 {  // small element: size in the upper half, data in the next 4 bytes
      guard first >> 16 <= 4 else { throw fail("small element at byte \(i) claims \(first >> 16) bytes (at most 4)") }
      return (first & 0xFFFF, first >> 16, i + 4, i + 8)
    }
    let size = u32(b, i + 4)
    guard i + 8 + size <= b.count else { throw fail("element at byte \(i) runs past the end (truncated?)") }
    return (first, size, i + 8, i + 8 + (size + 7) / 8 * 8)
  }

  static func u32(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 24 }

  /// A numeric miMATRIX: flags, dimensions, name, real part.
  static func matrix(_ b: [UInt8], _ fail: (String) -> DatasetError) throws(DatasetError) -> (String, MATLABArray)? {
    var parts: [(Int, [UInt8])] = []
    var i = 0
    while i < b.count && parts.count < 4 {
      let (type, size, start, next) = try tag(b, at: i, fail)
      parts.append((type, Array(b[start..<(start + size)])))
      i = next
    }
    guard parts.count == 4 else { return nil }  // not a plain numeric array
    let arrayClass = Int(parts[0].1.first ?? 0)
    guard (6...15).contains(arrayClass) else { return nil }  // cells, structs, chars: skipped
    let dims = stride(from: 0, to: parts[1].1.count, by: 4).map { Int(Int32(truncatingIfNeeded: u32(parts[1].1, $0))) }
    let name = String(decoding: parts[2].1, as: UTF8.self)
    let (type, raw) = parts[3]
    guard let count = checkedElementCount(dims, limit: raw.count) else {
      throw fail("array '\(UntrustedText.quoted(name))' has dimensions \(dims), more than its \(raw.count) bytes")
    }
    let width: Int
    switch type {
    case 1, 2: width = 1
    case 3, 4: width = 2
    case 5, 6, 7: width = 4
    case 9, 12, 13: width = 8
    default: throw fail("array '\(UntrustedText.quoted(name))' has unsupported storage type \(type)")
    }
    guard raw.count >= count * width else { throw fail("array '\(UntrustedText.quoted(name))' holds \(raw.count) bytes for \(count) elements") }
    if type == 2 && arrayClass == 9 { return (name, MATLABArray(dimensions: dims, values: [], bytes: Array(raw.prefix(count)))) }
    let values: [Double] = raw.withUnsafeBytes { p in
      (0..<count).map { k -> Double in
        let at = k * width
        switch type {
        case 1: return Double(p.load(fromByteOffset: at, as: Int8.self))
        case 2: return Double(p.load(fromByteOffset: at, as: UInt8.self))
        case 3: return Double(Int16(littleEndian: p.loadUnaligned(fromByteOffset: at, as: Int16.self)))
        case 4: return Double(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
        case 5: return Double(Int32(littleEndian: p.loadUnaligned(fromByteOffset: at, as: Int32.self)))
        case 6: return Double(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
        case 7: return Double(Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt32.self))))
        case 12: return Double(Int64(littleEndian: p.loadUnaligned(fromByteOffset: at, as: Int64.self)))
        case 13: return Double(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
        default: return Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
        }
      }
    }
    return (name, MATLABArray(dimensions: dims, values: values, bytes: nil))
  }
}

extension ImageDataset {
  /// SVHN cropped digits (`train_32x32.mat`, `test_32x32.mat`): `X` of H×W×3×N bytes in MATLAB's
  /// column-major order and `y` of N labels 1–10, where 10 means the digit 0.
  public static func readSVHN(_ path: String) throws(DatasetError) -> ImageDataset {
    let arrays = try MATLABFile.read(path)
    guard let x = arrays["X"] else { throw .malformed(path: path, reason: "no variable 'X' (the images)") }
    guard let y = arrays["y"] else { throw .malformed(path: path, reason: "no variable 'y' (the labels)") }
    guard x.dimensions.count == 4, x.dimensions[2] == 3 else {
      throw .malformed(path: path, reason: "'X' has dimensions \(x.dimensions), expected H×W×3×N")
    }
    let (h, w, n) = (x.dimensions[0], x.dimensions[1], x.dimensions[3])
    let labelValues = y.bytes.map { $0.map(Double.init) } ?? y.values
    guard labelValues.count == n else {
      throw .malformed(path: path, reason: "'y' holds \(labelValues.count) labels for \(n) images")
    }
    guard x.bytes != nil || x.values.allSatisfy({ $0.isFinite }) else {
      throw .malformed(path: path, reason: "'X' holds NaN or infinity")
    }
    let source = x.bytes ?? x.values.map { UInt8(clamping: Int(Swift.min(Swift.max($0.rounded(), 0), 255))) }
    var pixels = [UInt8](repeating: 0, count: n * 3 * h * w)
    for img in 0..<n {
      for c in 0..<3 {
        for col in 0..<w {
          for row in 0..<h {
            pixels[((img * 3 + c) * h + row) * w + col] = source[row + h * (col + w * (c + 3 * img))]
          }
        }
      }
    }
    var labels: [Int] = []
    for (i, v) in labelValues.enumerated() {
      guard v == v.rounded(), v >= 1, v <= 10 else {
        throw .malformed(path: path, reason: "label \(v) of image \(i) is not 1–10")
      }
      labels.append(Int(v) % 10)
    }
    return ImageDataset(
      source: path, format: .svhn, channels: 3, height: h, width: w, pixels: pixels, labels: labels,
      classNames: (0..<10).map(String.init))
  }
}
