import CZlib
import Foundation
import Tensors

/// One message of FedSim's wire protocol (`docs/protocol.md`): a JSON header frame with the
/// kind's typed header, then one raw little-endian float32 frame per tensor.
public struct WireMessage: Sendable, Equatable {
  public static let version = 2

  public enum Kind: String, Sendable, Codable {
    case hello, model, update, tap, done, heartbeat
  }

  public struct TensorInfo: Sendable, Codable, Equatable {
    public var name: String
    public var dtype: String
    public var shape: [Int]
  }

  public var body: WireBody
  public var sequence: Int
  public var tensors: [(name: String, tensor: Tensor)]

  public var kind: Kind { body.kind }
  public var run: String { body.run }

  public init(_ body: WireBody, sequence: Int = 0, tensors: [(name: String, tensor: Tensor)] = []) {
    (self.body, self.sequence, self.tensors) = (body, sequence, tensors)
  }

  public static func == (a: WireMessage, b: WireMessage) -> Bool {
    a.body == b.body && a.sequence == b.sequence && a.tensors.count == b.tensors.count
      && zip(a.tensors, b.tensors).allSatisfy {
        $0.name == $1.name && $0.tensor.shape == $1.tensor.shape && $0.tensor.scalars == $1.tensor.scalars
      }
  }

  /// The frames to send.
  public func frames() -> [[UInt8]] {
    var payload: [[UInt8]] = []
    var crc: uLong = crc32(0, nil, 0)
    for (_, t) in tensors {
      let bytes = t.withScalars { s in [UInt8](UnsafeRawBufferPointer(start: s.baseAddress, count: s.count * 4)) }
      crc = bytes.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
      payload.append(bytes)
    }
    let header = WireHeader(
      version: Self.version, sequence: sequence,
      tensors: tensors.map { TensorInfo(name: $0.name, dtype: "F32", shape: $0.tensor.shape) },
      crc32: UInt32(crc), body: body)
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    // Encoding plain structs of strings and finite numbers cannot fail.
    let json = (try? encoder.encode(header)) ?? Data()
    return [Array(json)] + payload
  }

  /// Decodes and validates a received message: header, version, declared numbers, sizes,
  /// checksum, finite values.
  public init(frames: [[UInt8]]) throws(WireError) {
    guard let first = frames.first else { throw .malformed("no frames") }
    let header: WireHeader
    do { header = try JSONDecoder().decode(WireHeader.self, from: Data(first)) } catch let e as WireError {
      throw e
    } catch {
      throw .malformed("the header frame is not a valid header (\(UntrustedText.printable(message: String(String(describing: error).prefix(160)))))")
    }
    try header.body.validate()
    guard header.tensors.count == frames.count - 1 else {
      throw .malformed("the header lists \(header.tensors.count) tensors but \(frames.count - 1) payload frames came")
    }
    var crc: uLong = crc32(0, nil, 0)
    var tensors: [(name: String, tensor: Tensor)] = []
    for (info, frame) in zip(header.tensors, frames.dropFirst()) {
      tensors.append((info.name, try Self.decode(info, frame)))
      crc = frame.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
    }
    guard UInt32(crc) == header.crc32 else {
      throw .malformed("payload checksum \(UInt32(crc)) does not match the header's \(header.crc32)")
    }
    self.init(header.body, sequence: header.sequence, tensors: tensors)
  }

  /// One payload frame as the tensor its header entry declares.
  static func decode(_ info: TensorInfo, _ frame: [UInt8]) throws(WireError) -> Tensor {
    guard info.dtype == "F32" else { throw .malformed("tensor '\(UntrustedText.quoted(info.name))' has dtype \(UntrustedText.quoted(info.dtype)); only F32 is spoken") }
    guard info.shape.allSatisfy({ $0 >= 0 }), info.shape.count <= 8 else {
      throw .malformed("tensor '\(UntrustedText.quoted(info.name))' has shape \(info.shape)")
    }
    let count = info.shape.reduce(1) { a, b in a.multipliedReportingOverflow(by: b).overflow ? Int.max : a * b }
    guard count < Int.max / 4, count * 4 == frame.count else {
      throw .malformed("tensor '\(UntrustedText.quoted(info.name))' of shape \(info.shape) needs \(count.multipliedReportingOverflow(by: 4).partialValue) bytes but its frame has \(frame.count)")
    }
    var finite = true
    let scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      frame.withUnsafeBytes { raw in
        guard let to = buffer.baseAddress, let from = raw.baseAddress else { return }
        #if _endian(little)
          _ = memcpy(to, from, count * 4)
        #else
          for i in 0..<count {
            to[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
          }
        #endif
      }
      for v in buffer.prefix(count) where !v.isFinite { finite = false }
      initialized = count
    }
    guard finite else { throw .malformed("tensor '\(UntrustedText.quoted(info.name))' holds NaN or infinity") }
    return Tensor(shape: info.shape, scalars: scalars)
  }

  /// Checks the tensors against what the receiver expects (names and shapes, in order).
  public func validate(against expected: [(name: String, shape: [Int])], prefix: String = "") throws(WireError) {
    let named = tensors.filter { $0.name.hasPrefix(prefix) }
    guard named.count == expected.count else {
      throw .malformed("\(named.count) '\(prefix)' tensors, expected \(expected.count)")
    }
    for (got, want) in zip(named, expected) {
      guard got.name == prefix + want.name, got.tensor.shape == want.shape else {
        throw .malformed("tensor '\(UntrustedText.quoted(got.name))' \(got.tensor.shape), expected '\(prefix + want.name)' \(want.shape)")
      }
    }
  }
}

/// Why a received message was dropped.
public enum WireError: Error, Equatable, CustomStringConvertible {
  case malformed(String)
  public var description: String {
    switch self {
    case .malformed(let reason): "malformed message: \(reason)"
    }
  }
}
