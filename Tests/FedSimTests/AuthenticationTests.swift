import AdversaryRole
import FedClient
import FedServer
import FedSimCore
import FedSimKit
import Foundation
import Testing

/// CURVE with a ZAP handler against rogue peers on loopback: a stranger's key, no key at all, a
/// client's key claiming another client, a client's key on the tap.
@Suite("Authentication: only invited keys take part", .serialized)
struct AuthenticationTests {
  @Test("strangers, keyless peers, squatters and a client on the tap are refused; the round completes")
  func roguesRefused() async throws {
    let folder = try FederationTests.folder(FederationTests.twoClients + "\nattack: {method: idlg, iterations: 2}")
    let server = try FederatedServer(folder: folder)
    let serverDone = Background { try server.run() }
    let (clients, tapHeard) = try await onThread { () -> ([Background<Void>], Bool) in
      let endpoints = try FederationTests.waitForEndpoints(folder)
      let context = try ZMQContext()
      let hello = { (c: Int) in WireMessage(.hello(Hello(run: "t", client: c))).frames() }
      // A stranger with a key of its own.
      let stranger = try ZMQSocket(context, .dealer)
      let keys = try CurveKeyring.publicKeys(folder)
      try stranger.useCurve(serverKey: keys.server, own: try CurveKeyPair.generate())
      try stranger.connect(endpoints.clients)
      try stranger.send(hello(1))
      // A peer with no key at all (plain ZeroMQ): its handshake cannot succeed.
      let plain = try ZMQSocket(context, .dealer)
      try plain.connect(endpoints.clients)
      try plain.send(hello(1))
      // Client 1's key claiming to be client 0.
      let squatter = try FederationTests.dealer(context, folder, as: "client-1")
      try squatter.send(hello(0))
      // A client's key subscribing to the tap, where only the adversary's key is let in.
      let spy = try ZMQSocket(context, .sub)
      try CurveKeyring.secure(spy, as: "client-0", in: folder)
      try spy.connect(endpoints.tap)
      Thread.sleep(forTimeInterval: 1)
      let clients = (0..<2).map { c in Background { try FederatedClient(folder: folder, id: c).run() } }
      let adversary = Background { try FederatedAdversary(folder: folder).run() }
      var heard = false
      let end = Date().addingTimeInterval(20)
      while Date() < end, !heard, FileManager.default.contents(atPath: folder.rounds) == nil {
        heard = try spy.receive(timeout: 0.2) != nil || stranger.receive(timeout: 0) != nil
      }
      _ = try adversary.get()
      return (clients, heard)
    }
    try await serverDone.value
    for c in clients { try await c.value }
    #expect(!tapHeard, "a refused peer heard the tap or the server")
    let log = FederationTests.events(folder, "server")
    let refused = log.filter { $0["event"] as? String == "refused" }
    #expect(refused.contains { $0["domain"] as? String == "clients" }, "the stranger's key")
    #expect(refused.contains { $0["domain"] as? String == "tap" }, "client 0's key on the tap")
    let drops = log.filter { $0["event"] as? String == "dropped" }.compactMap { $0["reason"] as? String }
    #expect(drops.contains { $0.contains("as client 0 signed with client-1's key") }, "\(drops)")
    let joined = log.filter { $0["event"] as? String == "client_joined" }.compactMap { $0["client"] as? Int }
    #expect(joined.sorted() == [0, 1])
    let finished = log.first { $0["event"] as? String == "round_finished" }
    #expect(finished?["updates"] as? Int == 2)
    #expect(FileManager.default.fileExists(atPath: folder.reconstruction(round: 1, client: 0)), "the adversary's key got the tap")
  }

  @Test("key files are readable by their owner only")
  func keyModes() throws {
    let folder = try FederationTests.folder(FederationTests.twoClients)
    let dir = try FileManager.default.attributesOfItem(atPath: CurveKeyring.folder(folder))
    #expect((dir[.posixPermissions] as? Int) == 0o700)
    for role in ["server", "client-0", "client-1", "adversary"] {
      let file = try FileManager.default.attributesOfItem(atPath: CurveKeyring.file(folder, role: role))
      #expect((file[.posixPermissions] as? Int) == 0o600, "\(role)")
    }
    #expect(try CurveKeyring.pair(folder, role: "client-0") != CurveKeyring.pair(folder, role: "client-1"))
  }
}
