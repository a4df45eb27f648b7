import CZlib
import Foundation
import Tensors

/// One message of FedSim's wire protocol (`docs/protocol.md`): a JSON header frame, then one raw
/// little-endian float32 frame per tensor.
public struct WireMessage: Sendable, Equatable {
  public static let version = 1

  public enum Kind: String, Sendable, Codable {
    /// A client or the adversary announcing itself to the server.
    case hello
    /// Server → client: the global model for a round.
    case model
    /// Client → server: the client's update for a round.
    case update
    /// Server → adversary (tap): a model and an update exactly as a client sent it.
    case tap
    /// Server → everyone: the run is over.
    case done
    /// Liveness, both ways.
    case heartbeat
  }

  public struct TensorInfo: Sendable, Codable, Equatable {
    public var name: String
    public var dtype: String
    public var shape: [Int]
  }

  struct Header: Codable {
    var v: Int
    var type: Kind
    var run: String
    var round: Int
    var client: Int
    var seq: Int
    var tensors: [TensorInfo]
    var crc32: UInt32
    var meta: [String: String]
  }

  public var kind: Kind
  public var run: String
  public var round: Int
  public var client: Int
  public var sequence: Int
  public var tensors: [(name: String, tensor: Tensor)]
  public var meta: [String: String]

  public init(
    kind: Kind, run: String, round: Int = 0, client: Int = -1, sequence: Int = 0,
    tensors: [(name: String, tensor: Tensor)] = [], meta: [String: String] = [:]
  ) {
    (self.kind, self.run, self.round, self.client, self.sequence, self.tensors, self.meta) =
      (kind, run, round, client, sequence, tensors, meta)
  }

  public static func == (a: WireMessage, b: WireMessage) -> Bool {
    a.kind == b.kind && a.run == b.run && a.round == b.round && a.client == b.client
      && a.sequence == b.sequence && a.meta == b.meta && a.tensors.count == b.tensors.count
      && zip(a.tensors, b.tensors).allSatisfy { $0.name == $1.name && $0.tensor.shape == $1.tensor.shape && $0.tensor.scalars == $1.tensor.scalars }
  }

  /// The frames to send.
  public func frames() -> [[UInt8]] {
    var payload: [[UInt8]] = []
    var crc: uLong = crc32(0, nil, 0)
    for (_, t) in tensors {
      let bytes = t.withScalars { s in
        [UInt8](UnsafeRawBufferPointer(start: s.baseAddress, count: s.count * 4))
      }
      crc = bytes.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
      payload.append(bytes)
    }
    let header = Header(
      v: Self.version, type: kind, run: run, round: round, client: client, seq: sequence,
      tensors: tensors.map { TensorInfo(name: $0.name, dtype: "F32", shape: $0.tensor.shape) },
      crc32: UInt32(crc), meta: meta)
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return [Array(try! encoder.encode(header))] + payload
  }

  /// Decodes and validates a received message: header, version, sizes, checksum, finite values.
  public init(frames: [[UInt8]]) throws(WireError) {
    guard let first = frames.first else { throw .malformed("no frames") }
    let header: Header
    do { header = try JSONDecoder().decode(Header.self, from: Data(first)) } catch {
      throw .malformed("the header frame is not a valid header (\(String(describing: error).prefix(120)))")
    }
    guard header.v == Self.version else { throw .malformed("protocol version \(header.v), expected \(Self.version)") }
    guard header.tensors.count == frames.count - 1 else {
      throw .malformed("the header lists \(header.tensors.count) tensors but \(frames.count - 1) payload frames came")
    }
    var crc: uLong = crc32(0, nil, 0)
    var tensors: [(String, Tensor)] = []
    for (info, frame) in zip(header.tensors, frames.dropFirst()) {
      guard info.dtype == "F32" else { throw .malformed("tensor '\(info.name)' has dtype \(info.dtype); only F32 is spoken") }
      guard info.shape.allSatisfy({ $0 >= 0 }), info.shape.count <= 8 else {
        throw .malformed("tensor '\(info.name)' has shape \(info.shape)")
      }
      let count = info.shape.reduce(1) { a, b in a.multipliedReportingOverflow(by: b).overflow ? Int.max : a * b }
      guard count < Int.max / 4, count * 4 == frame.count else {
        throw .malformed("tensor '\(info.name)' of shape \(info.shape) needs \(count.multipliedReportingOverflow(by: 4).partialValue) bytes but its frame has \(frame.count)")
      }
      crc = frame.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
      var finite = true
      let scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        frame.withUnsafeBytes { raw in
          #if _endian(little)
            _ = memcpy(buffer.baseAddress!, raw.baseAddress!, count * 4)
          #else
            for i in 0..<count { buffer[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
          #endif
        }
        for v in buffer.prefix(count) where !v.isFinite { finite = false }
        initialized = count
      }
      guard finite else { throw .malformed("tensor '\(info.name)' holds NaN or infinity") }
      tensors.append((info.name, Tensor(shape: info.shape, scalars: scalars)))
    }
    guard UInt32(crc) == header.crc32 else { throw .malformed("payload checksum \(UInt32(crc)) does not match the header's \(header.crc32)") }
    self.init(
      kind: header.type, run: header.run, round: header.round, client: header.client, sequence: header.seq,
      tensors: tensors.map { (name: $0.0, tensor: $0.1) }, meta: header.meta)
  }

  /// Checks the tensors against what the receiver expects (names and shapes, in order).
  public func validate(against expected: [(name: String, shape: [Int])], prefix: String = "") throws(WireError) {
    let named = tensors.filter { $0.name.hasPrefix(prefix) }
    guard named.count == expected.count else {
      throw .malformed("\(named.count) '\(prefix)' tensors, expected \(expected.count)")
    }
    for (got, want) in zip(named, expected) {
      guard got.name == prefix + want.name, got.tensor.shape == want.shape else {
        throw .malformed("tensor '\(got.name)' \(got.tensor.shape), expected '\(prefix + want.name)' \(want.shape)")
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
