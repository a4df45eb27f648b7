import Foundation

/// A safetensors file: named tensors and string metadata.
///
/// The format is an 8-byte little-endian header length, a JSON header mapping each name to its
/// `dtype`, `shape` and `data_offsets` (plus an optional `__metadata__` object of strings), then
/// the raw little-endian data. F32 is read and written; F64, F16, BF16 and the integer and bool
/// dtypes are read and converted to Float32.
public struct SafetensorsFile: Sendable {
  /// The tensors by name.
  public var tensors: [String: Tensor]
  /// The free-form string metadata.
  public var metadata: [String: String]

  public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
    self.tensors = tensors
    self.metadata = metadata
  }

  /// Tensor names, sorted.
  public var names: [String] { tensors.keys.sorted() }

  /// The tensor called `name`, or an error naming the file and the tensor.
  public func tensor(_ name: String, source: String = "safetensors data") throws(SafetensorsError) -> Tensor {
    guard let t = tensors[name] else { throw .missingTensor(source: source, name: name) }
    return t
  }

  /// Reads a file.
  public init(contentsOf path: String) throws(SafetensorsError) {
    let bytes: [UInt8]
    do { bytes = try FileInput.bytes(path) } catch { throw .unreadable(source: path, reason: error.reason) }
    try self.init(bytes: bytes, source: path)
  }

  /// Parses the bytes of a file; `source` names it in errors.
  public init(bytes: [UInt8], source: String) throws(SafetensorsError) {
    func fail(_ why: String) -> SafetensorsError { .malformed(source: source, reason: why) }
    func q(_ text: String) -> String { UntrustedText.quoted(text) }
    guard bytes.count >= 8 else {
      throw fail("\(bytes.count) bytes is too short for the 8-byte header length")
    }
    var headerLength: UInt64 = 0
    for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
    guard headerLength <= UInt64(bytes.count - 8) else {
      throw fail("header length \(headerLength) runs past the end of the \(bytes.count)-byte file")
    }
    let dataStart = 8 + Int(headerLength)
    let json: Any
    do {
      json = try JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart]))
    } catch {
      throw fail("header is not valid JSON")
    }
    guard let header = json as? [String: Any] else { throw fail("header is not a JSON object") }
    let dataLength = bytes.count - dataStart
    var tensors: [String: Tensor] = [:]
    var metadata: [String: String] = [:]
    var spans: [(Int, Int, String)] = []
    for (name, value) in header {
      if name == "__metadata__" {
        guard let m = value as? [String: Any] else { throw fail("__metadata__ is not an object") }
        for (k, v) in m {
          guard let s = v as? String else { throw fail("metadata '\(q(k))' is not a string") }
          metadata[k] = s
        }
        continue
      }
      guard let entry = value as? [String: Any] else { throw fail("entry '\(q(name))' is not an object") }
      guard let dtypeName = entry["dtype"] as? String else { throw fail("'\(q(name))' has no dtype") }
      guard let dtype = DType(rawValue: dtypeName) else {
        throw fail("'\(q(name))' has unsupported dtype '\(q(dtypeName))'")
      }
      guard let shapeAny = entry["shape"] as? [Any],
        let shape = shapeAny.map({ ($0 as? NSNumber)?.intValue }) as? [Int],
        shape.allSatisfy({ $0 >= 0 })
      else { throw fail("'\(q(name))' has no valid shape") }
      guard let offsetsAny = entry["data_offsets"] as? [Any], offsetsAny.count == 2,
        let begin = (offsetsAny[0] as? NSNumber)?.intValue,
        let end = (offsetsAny[1] as? NSNumber)?.intValue
      else { throw fail("'\(q(name))' has no valid data_offsets") }
      guard 0 <= begin && begin <= end && end <= dataLength else {
        throw fail("'\(q(name))' data_offsets [\(begin), \(end)] lie outside the \(dataLength)-byte data")
      }
      guard let count = checkedElementCount(shape, limit: dataLength) else {
        throw fail("'\(q(name))' shape \(shape) is larger than the file")
      }
      guard end - begin == count * dtype.size else {
        throw fail(
          "'\(q(name))' holds \(end - begin) bytes but \(dtypeName) \(shape) needs \(count * dtype.size)")
      }
      if end > begin { spans.append((begin, end, name)) }
      let storage = TensorStorage(count: count)
      bytes.withUnsafeBufferPointer { buf in
        dtype.decode(UnsafeRawPointer(buf.baseAddress! + dataStart + begin), count: count, into: storage.base)
      }
      tensors[name] = Tensor(shape: shape, storage: storage)
    }
    spans.sort { $0.0 < $1.0 }
    for (a, b) in zip(spans, spans.dropFirst()) where b.0 < a.1 {
      throw fail("the data of '\(q(a.2))' and '\(q(b.2))' overlap")
    }
    self.tensors = tensors
    self.metadata = metadata
  }

  /// The file's bytes, tensors as F32 in name order.
  public func serialized() -> [UInt8] {
    var header: [String: Any] = [:]
    if !metadata.isEmpty { header["__metadata__"] = metadata }
    var offset = 0
    for name in names {
      let t = tensors[name]!
      header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.scalarCount]]
      offset += 4 * t.scalarCount
    }
    var json = Array(try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
    while json.count % 8 != 0 { json.append(0x20) }
    var out = [UInt8]()
    out.reserveCapacity(8 + json.count + offset)
    for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64(i)))) }
    out += json
    for name in names {
      tensors[name]!.withScalars { s in
        for v in s { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
      }
    }
    return out
  }

  /// Writes the file atomically (a temporary file renamed into place), or into a device or a pipe
  /// (`FileOutput`).
  public func write(to path: String) throws(SafetensorsError) {
    do { try FileOutput.write(Data(serialized()), to: path) } catch { throw .unwritable(source: path, reason: error.reason) }
  }
}

/// Why a safetensors file could not be read or written; each case names the file.
public enum SafetensorsError: Error, Equatable, CustomStringConvertible {
  case unreadable(source: String, reason: String)
  case unwritable(source: String, reason: String)
  case malformed(source: String, reason: String)
  case missingTensor(source: String, name: String)

  public var description: String {
    switch self {
    case .unreadable(let s, let r): "\(s): cannot read: \(r)"
    case .unwritable(let s, let r): "\(s): cannot write: \(r)"
    case .malformed(let s, let r): "\(s): not a valid safetensors file: \(r)"
    case .missingTensor(let s, let n): "\(s): no tensor named '\(UntrustedText.quoted(n))'"
    }
  }
}

/// The element types a safetensors file may hold.
enum DType: String {
  case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
  case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

  var size: Int {
    switch self {
    case .f64, .i64: 8
    case .f32, .i32: 4
    case .f16, .bf16, .i16: 2
    case .i8, .u8, .bool: 1
    }
  }

  /// Converts `count` little-endian elements at `src` (any alignment) to Float32.
  func decode(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
    for i in 0..<count {
      let p = src + i * size
      switch self {
      case .f32: dst[i] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
      case .f64: dst[i] = Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))))
      case .bf16: dst[i] = Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self))) << 16)
      case .f16: dst[i] = halfToFloat(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))
      case .i64: dst[i] = Float(Int64(littleEndian: p.loadUnaligned(as: Int64.self)))
      case .i32: dst[i] = Float(Int32(littleEndian: p.loadUnaligned(as: Int32.self)))
      case .i16: dst[i] = Float(Int16(littleEndian: p.loadUnaligned(as: Int16.self)))
      case .i8: dst[i] = Float(p.load(as: Int8.self))
      case .u8, .bool: dst[i] = Float(p.load(as: UInt8.self))
      }
    }
  }
}

/// IEEE 754 binary16 to binary32, exactly (subnormals, infinities and NaN included).
func halfToFloat(_ h: UInt16) -> Float {
  let sign: Float = h & 0x8000 != 0 ? -1 : 1
  let exponent = Int((h >> 10) & 0x1F)
  let fraction = Float(h & 0x3FF)
  switch exponent {
  case 0: return sign * fraction * 0x1p-24
  case 31: return fraction == 0 ? sign * .infinity : .nan
  default: return sign * (1 + fraction * 0x1p-10) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
  }
}
