import CZeroMQ
import FedClient
import FedServer
import FedSimCore
import FedSimKit
import Foundation
import Tensors
import Testing

/// A live server on loopback under a stream of random and mutated frames from a rogue that holds
/// client 1's key (the strongest position: its messages pass CURVE), plus strangers: every
/// message is dropped with a reason, the server never crashes, and the real round completes.
@Suite("Fuzzing: the wire against a live server", .serialized)
struct WireFuzzTests {
  /// One hostile message built from the proper update `good`.
  static func mutant(_ good: [[UInt8]], _ fuzz: inout Fuzz) -> [[UInt8]] {
    var frames = good
    switch fuzz.int(0..<7) {
    case 0:  // random frames
      return (0..<fuzz.int(1..<5)).map { _ in fuzz.bytes(fuzz.int(0..<2000)) }
    case 1:  // a header byte flipped
      if !frames[0].isEmpty { frames[0][fuzz.int(0..<frames[0].count)] ^= UInt8(1 << fuzz.int(0..<8)) }
    case 2, 3:  // a header field replaced (names, numbers, shapes that lie about the payload)
      guard var header = (try? JSONSerialization.jsonObject(with: Data(frames[0]))) as? [String: Any] else { break }
      var update = header["update"] as? [String: Any] ?? [:]
      let key = fuzz.pick(["run", "round", "client", "examples", "batch", "steps", "x"])
      update[key] = fuzz.chance(0.7) ? fuzz.pick(Fuzz.hostileJSONNumbers) : fuzz.pick(["t", "", "other", "../x"])
      header["update"] = update
      if fuzz.chance(0.4), var tensors = header["tensors"] as? [[String: Any]], !tensors.isEmpty {
        let i = fuzz.int(0..<tensors.count)
        tensors[i]["shape"] = fuzz.pick([[1 << 40, 1 << 40], [-1], [0], [1 << 20], [], [Int.max, 2]] as [[Int]])
        header["tensors"] = tensors
      }
      if fuzz.chance(0.2) { header[fuzz.pick(["version", "sequence", "crc32"])] = fuzz.pick(Fuzz.hostileJSONNumbers) }
      frames[0] = Array((try? JSONSerialization.data(withJSONObject: header)) ?? Data())
    case 4:  // a payload cut, extended or dropped
      let i = fuzz.int(1..<max(2, frames.count))
      if i < frames.count {
        if fuzz.chance(0.5) { frames[i] = Array(frames[i].prefix(fuzz.int(0..<(frames[i].count + 1)))) } else { frames[i] += fuzz.bytes(4) }
      } else {
        frames.removeLast()
      }
    case 5:  // frames added or the header alone
      frames = fuzz.chance(0.5) ? [frames[0]] : frames + [fuzz.bytes(8)]
    default:  // a well-formed message of another kind or for another client
      let body: WireBody = fuzz.pick([
        .hello(Hello(run: "t", client: fuzz.pick([0, 1, 99]))), .done(Done(run: "t")), .heartbeat(Heartbeat(run: "t", round: 1)),
        .update(UpdateHeader(run: "t", round: 1, client: 0, examples: 1, batch: 1, steps: 1)),
      ])
      frames = WireMessage(body).frames()
    }
    return frames
  }

  @Test("random and mutated frames, lying sizes and unknown identities: all dropped with reasons; the round completes")
  func liveServer() async throws {
    let folder = try FederationTests.folder(FederationTests.twoClients.replacingOccurrences(of: "deadline: 8", with: "deadline: 30"))
    var server = try FederatedServer(folder: folder)
    server.maximumMessageBytes = 1 << 20
    let serverDone = Background { [server] in try server.run() }
    let cases = Fuzz.cases(300)
    let (client0, counted) = try await onThread { () -> (Background<Void>, Int) in
      _ = try FederationTests.waitForEndpoints(folder)
      let client0 = Background { try FederatedClient(folder: folder, id: 0).run() }
      let context = try ZMQContext()
      let rogue = try FederationTests.dealer(context, folder, as: "client-1")
      try rogue.setOption(ZMQ_SNDTIMEO, Int32(5000))  // never block the test on a gone server
      try rogue.send(WireMessage(.hello(Hello(run: "t", client: 1))).frames())
      guard let frames = try rogue.receive(timeout: 20) else { throw FederationError.failed("no model came") }
      let model = try WireMessage(frames: frames)
      let zeros = model.tensors.map { (name: $0.name, tensor: Tensor.zeros($0.tensor.shape)) }
      let good = WireMessage(.update(UpdateHeader(run: "t", round: 1, client: 1, examples: 1, batch: 1, steps: 1)), tensors: zeros).frames()
      // A stranger's key: refused at the handshake, so nothing it sends arrives.
      let stranger = try ZMQSocket(context, .dealer)
      try stranger.useCurve(serverKey: try CurveKeyring.publicKeys(folder).server, own: try CurveKeyPair.generate())
      try stranger.setOption(ZMQ_SNDTIMEO, Int32(0))  // refused: a DEALER with no peer would block
      try stranger.connect(try folder.readEndpoints().clients)
      var fuzz = Fuzz(seed: 17)
      var counted = 0
      for _ in 0..<cases {
        var frames = Self.mutant(good, &fuzz)
        if fuzz.chance(0.05) {
          try? stranger.send(frames)
          continue
        }
        // A mutant that is still a proper update would end the round: it becomes noise instead.
        let decoded = try? WireMessage(frames: frames)
        if case .update(let h) = decoded?.body, h.client == 1 { frames = [fuzz.bytes(16)] }
        if decoded?.kind != .heartbeat { counted += 1 }  // the server passes heartbeats over silently
        try rogue.send(frames)
      }
      try rogue.send(good)  // and the proper update, which must still be taken
      return (client0, counted)
    }
    try await serverDone.value
    try await client0.value
    let log = FederationTests.events(folder, "server")
    let dropped = log.filter { $0["event"] as? String == "dropped" }
    #expect(dropped.allSatisfy { ($0["reason"] as? String)?.isEmpty == false })
    // Each reason quotes what the message held short and printable.
    let reasons = dropped.compactMap { $0["reason"] as? String }
    #expect(reasons.allSatisfy { $0.count <= 1_000 && !$0.unicodeScalars.contains { $0.value < 0x20 } }, "\(reasons.filter { $0.count > 1_000 }.map { $0.prefix(200) })")
    #expect(dropped.count == counted, "\(dropped.count) of \(counted) dropped")
    let finished = log.first { $0["event"] as? String == "round_finished" }
    #expect(finished?["updates"] as? Int == 2, "the real round did not complete: \(finished ?? [:])")
    #expect(log.last?["event"] as? String == "done")
    print("wire fuzz: \(cases) messages, \(dropped.count) dropped with reasons, round completed: \(finished?["updates"] as? Int == 2)")
  }
}
