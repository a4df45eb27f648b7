import FedData
import FedSimCore
import FedSimKit
import FedServer
import FedClient
import AdversaryRole
import Foundation
import Tensors
import Testing

/// Malformed frames, each with the reason the decoder must give. The live-server test sends
/// them all to a running server.
enum MalformedFrames {
  static let good = WireMessage(
    .update(UpdateHeader(run: "t", round: 1, client: 1, examples: 1, batch: 1, steps: 1)), sequence: 3,
    tensors: [(name: "a", tensor: Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]))])

  static func header(_ edit: (inout [String: Any]) -> Void) -> [[UInt8]] {
    var frames = good.frames()
    var h = try! JSONSerialization.jsonObject(with: Data(frames[0])) as! [String: Any]
    edit(&h)
    frames[0] = Array(try! JSONSerialization.data(withJSONObject: h))
    return frames
  }

  /// The good message with one field of its typed update header changed.
  static func update(_ key: String, _ value: Any) -> [[UInt8]] {
    header { h in
      var u = h["update"] as? [String: Any] ?? [:]
      u[key] = value
      h["update"] = u
    }
  }

  static func payload(_ edit: (inout [UInt8]) -> Void) -> [[UInt8]] {
    var frames = good.frames()
    edit(&frames[1])
    return frames
  }

  static var nanPayload: [[UInt8]] {
    var m = good
    m.tensors[0].tensor = Tensor(shape: [2, 3], scalars: [1, .nan, 3, 4, 5, 6])
    return m.frames()
  }

  static var infPayload: [[UInt8]] {
    var m = good
    m.tensors[0].tensor = Tensor(shape: [2, 3], scalars: [1, 2, .infinity, 4, 5, 6])
    return m.frames()
  }

  /// Frames that the decoder itself rejects, with a word its reason must contain.
  static let undecodable: [(String, [[UInt8]], String)] = [
    ("empty header", [[]], "header"),
    ("not JSON", [Array("garbage".utf8)], "header"),
    ("JSON array header", [Array("[1,2]".utf8)], "header"),
    ("missing fields", [Array("{}".utf8)], "header"),
    ("future version", header { $0["v"] = 3 }, "version"),
    ("old version", header { $0["v"] = 1 }, "version"),
    ("unknown type", header { $0["type"] = "steal" }, "header"),
    ("no typed header", header { $0["update"] = nil }, "header"),
    ("typed header of another kind", header { $0["type"] = "tap" }, "header"),
    ("round not a number", update("round", "one"), "header"),
    ("round missing", header { h in var u = h["update"] as? [String: Any] ?? [:]; u["round"] = nil; h["update"] = u }, "header"),
    ("round 0", update("round", 0), "round 0 is out of bounds"),
    ("round too large", update("round", 1_000_001), "out of bounds"),
    ("negative client", update("client", -1), "client -1 is out of bounds"),
    ("negative examples", update("examples", -2), "examples -2 is out of bounds"),
    ("zero examples", update("examples", 0), "out of bounds"),
    ("huge batch", update("batch", 1 << 40), "batch"),
    ("zero steps", update("steps", 0), "steps"),
    ("long run name", update("run", String(repeating: "x", count: 300)), "run name"),
    ("fewer payload frames", Array(good.frames().prefix(1)), "payload frames"),
    ("extra payload frame", good.frames() + [[0, 0, 0, 0]], "payload frames"),
    ("float64 dtype", header { h in var t = h["tensors"] as! [[String: Any]]; t[0]["dtype"] = "F64"; h["tensors"] = t }, "dtype"),
    ("negative dimension", header { h in var t = h["tensors"] as! [[String: Any]]; t[0]["shape"] = [-2, -3]; h["tensors"] = t }, "shape"),
    ("rank 9", header { h in var t = h["tensors"] as! [[String: Any]]; t[0]["shape"] = [1, 1, 1, 1, 1, 1, 1, 1, 6]; h["tensors"] = t }, "shape"),
    ("overflowing shape", header { h in var t = h["tensors"] as! [[String: Any]]; t[0]["shape"] = [Int.max, 4]; h["tensors"] = t }, "bytes"),
    ("shape larger than frame", header { h in var t = h["tensors"] as! [[String: Any]]; t[0]["shape"] = [3, 3]; h["tensors"] = t }, "bytes"),
    ("truncated payload", payload { $0.removeLast(2) }, "bytes"),
    ("flipped payload bit", payload { $0[5] ^= 0x10 }, "checksum"),
    ("wrong checksum", header { $0["crc32"] = 12345 }, "checksum"),
    ("NaN value", nanPayload, "NaN"),
    ("infinite value", infPayload, "NaN"),
  ]
}

@Suite("Wire protocol")
struct WireTests {
  @Test("a message survives encoding and decoding")
  func roundTrip() throws {
    let decoded = try WireMessage(frames: MalformedFrames.good.frames())
    #expect(decoded == MalformedFrames.good)
    let tap = WireMessage(
      .tap(TapHeader(run: "t", round: 2, client: -1, clients: [0, 1], algorithm: .fedavg, learningRate: 0.5, examples: 9, batch: 3, steps: 4)))
    #expect(try WireMessage(frames: tap.frames()) == tap)
  }

  @Test("malformed frames are rejected with their reason", arguments: MalformedFrames.undecodable.indices)
  func rejects(index: Int) {
    let (name, frames, word) = MalformedFrames.undecodable[index]
    do {
      _ = try WireMessage(frames: frames)
      Issue.record("\(name): accepted")
    } catch {
      #expect(error.description.contains(word), "\(name): \(error)")
    }
  }

  @Test("tensors are checked against the model's names and shapes")
  func validatesAgainstModel() throws {
    let m = MalformedFrames.good
    try m.validate(against: [(name: "a", shape: [2, 3])])
    #expect(throws: WireError.self) { try m.validate(against: [(name: "b", shape: [2, 3])]) }
    #expect(throws: WireError.self) { try m.validate(against: [(name: "a", shape: [3, 2])]) }
    #expect(throws: WireError.self) { try m.validate(against: [(name: "a", shape: [2, 3]), (name: "b", shape: [1])]) }
  }
}
