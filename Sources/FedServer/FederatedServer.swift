import FedData
import FedSimCore
import Foundation
import Tensors

/// The `fed-server` role: binds a ROUTER for clients and an XPUB tap for the adversary, runs the
/// scenario's rounds (FedSGD or FedAvg), and closes each round at its deadline with the updates
/// it has, if they reach the quorum. A malformed or unexpected message is dropped with a logged
/// reason; it never stops the server. After every round it writes `rounds.json`.
public struct FederatedServer: Sendable {
  public let folder: RunFolder
  public let setup: FederationSetup
  public let log: EventLog
  /// The largest message accepted from a peer (ZMQ_MAXMSGSIZE).
  public var maximumMessageBytes: Int64 = 512 << 20

  public init(folder: RunFolder) throws(FederationError) {
    self.folder = folder
    let scenario: Scenario
    do { scenario = try folder.readScenario() } catch { throw .folder(error) }
    setup = try FederationSetup(scenario)
    log = EventLog(path: folder.events("server"), role: "server")
  }

  /// Serves every round; `onListening` hears the endpoints once both sockets are bound.
  public func run(onListening: (Endpoints) -> Void = { _ in }) throws(FederationError) {
    let s = setup.scenario
    let sockets = try ServerSockets(host: s.federation.host, maximumMessageBytes: maximumMessageBytes)
    do { try folder.writeJSON(sockets.endpoints, to: folder.endpoints) } catch { throw .folder(error) }
    log.log("listening", ["clients": sockets.endpoints.clients, "tap": sockets.endpoints.tap])
    onListening(sockets.endpoints)
    var model = try setup.initialModel()
    let identities = try Registration(scenario: s, sockets: sockets, log: log).wait()
    var rounds = RoundRunner(setup: setup, sockets: sockets, identities: identities, log: log)
    var records: [RoundRecord] = []
    for round in 1...s.federation.rounds {
      let record = try rounds.run(round, model: &model)
      records.append(record)
      do { try folder.writeJSON(records, to: folder.rounds) } catch { throw .folder(error) }
    }
    sockets.sendDone(to: identities, run: s.name)
    log.log("done")
  }
}

/// The server's two sockets and its message sequence numbers. Owned by the server's thread.
final class ServerSockets {
  let router: ZMQSocket
  let tap: ZMQSocket
  let endpoints: Endpoints
  private var sequence = 0

  init(host: String, maximumMessageBytes: Int64) throws(FederationError) {
    do {
      let context = try ZMQContext()
      router = try ZMQSocket(context, .router, maximumMessageBytes: maximumMessageBytes)
      tap = try ZMQSocket(context, .xpub)
      endpoints = Endpoints(clients: try router.bind("tcp://\(host):*"), tap: try tap.bind("tcp://\(host):*"))
    } catch { throw .socket(error) }
  }

  func next() -> Int {
    sequence += 1
    return sequence
  }

  /// Sends to one client; a failure (the peer is gone) is the caller's to log.
  func send(_ body: WireBody, to identity: [UInt8], tensors: [(name: String, tensor: Tensor)] = []) throws(ZMQError) {
    try router.send([identity] + WireMessage(body, sequence: next(), tensors: tensors).frames())
  }

  func publish(_ body: WireBody, tensors: [(name: String, tensor: Tensor)] = []) throws(ZMQError) {
    try tap.send(WireMessage(body, sequence: next(), tensors: tensors).frames())
  }

  func sendDone(to identities: [Int: [UInt8]], run: String) {
    for (_, id) in identities { try? send(.done(Done(run: run)), to: id) }
    try? publish(.done(Done(run: run)))
  }
}
