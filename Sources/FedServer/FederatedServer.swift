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
    if s.federation.host == "0.0.0.0" || s.federation.host == "::" {
      log.log("warning", ["reason": "binding \(s.federation.host): every network this machine is on can reach the server"])
    }
    let keys = s.federation.security == .curve ? try ServerKeys(folder: folder) : nil
    let sockets = try ServerSockets(host: s.federation.host, port: s.federation.port, maximumMessageBytes: maximumMessageBytes, keys: keys, log: log)
    do { try folder.writeJSON(sockets.endpoints, to: folder.endpoints) } catch { throw .folder(error) }
    log.log("listening", ["clients": sockets.endpoints.clients, "tap": sockets.endpoints.tap])
    onListening(sockets.endpoints)
    var model = try setup.initialModel()
    try writeStart(model)
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

  /// The split and the initial model, so an independent implementation can train from the
  /// same start on the same images (tools/torch_fedavg.py).
  private func writeStart(_ model: AnyModel) throws(FederationError) {
    let split = DatasetSplit(test: setup.testIndices, clients: setup.clientIndices)
    var tensors: [String: Tensor] = [:]
    for p in model.namedParameters { tensors["param." + p.name] = p.tensor }
    do { try folder.writeJSON(split, to: folder.partition) } catch { throw .folder(error) }
    do { try SafetensorsFile(tensors: tensors, metadata: ["model": setup.scenario.model.name]).write(to: folder.initialModel) } catch {
      throw .folder(.write(path: folder.initialModel, reason: error.description))
    }
  }
}

/// The dataset indices of the server's test images and of each client's training images.
struct DatasetSplit: Codable {
  var test: [Int]
  var clients: [[Int]]
}

/// The server's own CURVE key pair and the public keys it admits.
struct ServerKeys {
  let own: CurveKeyPair
  let admitted: CurvePublicKeys

  init(folder: RunFolder) throws(FederationError) {
    own = try CurveKeyring.pair(folder, role: "server")
    admitted = try CurveKeyring.publicKeys(folder)
  }

  /// The user id of `key` on `domain`: "client-<c>" on the clients' socket, "adversary" on
  /// the tap; nil for any other key.
  func user(domain: String, key: String) -> String? {
    switch domain {
    case "clients": admitted.clients.firstIndex(of: key).map { "client-\($0)" }
    case "tap": key == admitted.adversary ? "adversary" : nil
    default: nil
    }
  }
}

/// The server's two sockets and its message sequence numbers. Owned by the server's thread.
/// Under CURVE, a ZAP handler admits only the invited keys and names each peer by its key.
final class ServerSockets {
  let router: ZMQSocket
  let tap: ZMQSocket
  let endpoints: Endpoints
  /// Whether every client message must carry its key's user id.
  let authenticated: Bool
  private let zap: ZAPHandler?
  private var sequence = 0

  init(host: String, port: Int = 0, maximumMessageBytes: Int64, keys: ServerKeys?, log: EventLog) throws(FederationError) {
    do {
      let context = try ZMQContext()
      zap = try keys.map { keys throws(ZMQError) in
        try ZAPHandler(
          context: context, decide: { keys.user(domain: $0, key: $1) },
          refused: { log.log("refused", ["domain": $0, "key": $1, "reason": "key not invited"]) })
      }
      router = try ZMQSocket(context, .router, maximumMessageBytes: maximumMessageBytes)
      tap = try ZMQSocket(context, .xpub)
      // No high-water mark: a busy adversary must not lose the updates it was sent (only those
      // it attacks are published), nor the final done.
      try tap.keepEveryMessage()
      if let keys {
        try router.serveCurve(secretKey: keys.own.secretKey, domain: "clients")
        try tap.serveCurve(secretKey: keys.own.secretKey, domain: "tap")
      }
      authenticated = keys != nil
      // A fixed port (federation.port) for clients started by hand elsewhere; else any free one.
      let ports = port == 0 ? ("*", "*") : ("\(port)", "\(port + 1)")
      endpoints = Endpoints(clients: try router.bind("tcp://\(host):\(ports.0)"), tap: try tap.bind("tcp://\(host):\(ports.1)"))
    } catch { throw .socket(error) }
  }

  deinit { zap?.stop() }

  /// The next message from a client: its connection, its frames and (under CURVE) the
  /// client its key belongs to.
  func receiveFromClient(timeout: Double) throws(ZMQError) -> (identity: [UInt8], frames: [[UInt8]], user: String?)? {
    guard let m = try router.receiveMessage(timeout: timeout), m.frames.count >= 2 else { return nil }
    return (m.frames[0], Array(m.frames.dropFirst()), m.user)
  }

  /// Throws unless the sender may speak as `client` (always true without CURVE).
  func check(user: String?, speaksFor client: Int) throws(WireError) {
    guard authenticated else { return }
    guard user == "client-\(client)" else {
      throw .malformed("a message as client \(client) signed with \(user.map { "\($0)'s key" } ?? "no key")")
    }
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
