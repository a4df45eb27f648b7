import FedSimCore
import Foundation

/// The server's first phase: every client says hello from its own connection, and (when the
/// scenario attacks) the adversary subscribes to the tap, until the deadline.
struct Registration {
  let scenario: Scenario
  let sockets: ServerSockets
  let log: EventLog

  /// The connection identity of each client that joined.
  func wait() throws(FederationError) -> [Int: [UInt8]] {
    let f = scenario.federation
    var identities: [Int: [UInt8]] = [:]
    var tapSubscribed = scenario.attack == nil
    let end = Date().addingTimeInterval(f.deadline)
    while (identities.count < f.clients || !tapSubscribed) && Date() < end {
      do {
        if let m = try sockets.receiveFromClient(timeout: 0.05) { register(m, into: &identities) }
        if let sub = try sockets.tap.receive(timeout: 0), sub.first?.first == 1 {
          tapSubscribed = true
          log.log("adversary_subscribed")
        }
      } catch { throw .socket(error) }
    }
    guard identities.count >= f.quorum else {
      log.log("failed", ["reason": "only \(identities.count) of \(f.clients) clients joined"])
      throw .tooFewClients(joined: identities.count, needed: f.quorum, of: f.clients)
    }
    return identities
  }

  private func register(
    _ incoming: (identity: [UInt8], frames: [[UInt8]], user: String?), into identities: inout [Int: [UInt8]]
  ) {
    do throws(WireError) {
      let m = try WireMessage(frames: incoming.frames)
      guard case .hello(let h) = m.body, h.run == scenario.name, h.client < scenario.federation.clients else {
        throw WireError.malformed("expected a hello for run '\(scenario.name)' from a client 0..<\(scenario.federation.clients), got \(m.kind.rawValue)")
      }
      // Under CURVE a client is who its key says; and an identity is bound once: a second
      // hello for a taken client is someone else's.
      try sockets.check(user: incoming.user, speaksFor: h.client)
      if let known = identities[h.client], known != incoming.identity {
        throw WireError.malformed("client \(h.client) already joined from another connection")
      }
      identities[h.client] = incoming.identity
      log.log("client_joined", ["client": h.client])
    } catch {
      log.log("dropped", ["reason": "\(error)"])
    }
  }
}
