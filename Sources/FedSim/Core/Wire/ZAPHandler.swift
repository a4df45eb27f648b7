import CZeroMQ
import Foundation
import Synchronization

/// The ZeroMQ authentication handler (ZAP, RFC 27) of one context: a thread answering
/// `inproc://zeromq.zap.01`. Each CURVE handshake asks it about the peer's public key on a
/// socket's domain; `decide` returns the user id to give the peer (then every message from it
/// carries that id) or nil to refuse it. Refusals are reported to `refused`.
public final class ZAPHandler: Sendable {
  /// Shared with the thread (which must not hold the handler itself, or it would never go).
  private final class Control: Sendable {
    let stopping = Atomic<Bool>(false)
    let finished = DispatchSemaphore(value: 0)
  }
  private let control = Control()

  public init(
    context: ZMQContext, decide: @escaping @Sendable (_ domain: String, _ key: String) -> String?,
    refused: @escaping @Sendable (_ domain: String, _ key: String) -> Void
  ) throws(ZMQError) {
    // Bound here, before any CURVE socket can take a connection: without a handler, libzmq
    // would let every key in.
    let socket = try ZMQSocket(context, .rep)
    try socket.bind("inproc://zeromq.zap.01")
    let box = SocketBox(socket)
    Thread { [control] in
      while !control.stopping.load(ordering: .relaxed) {
        guard let request = try? box.socket.receive(timeout: 0.1) else { continue }
        try? box.socket.send(Self.reply(to: request, decide: decide, refused: refused))
      }
      box.release()
      control.finished.signal()
    }.start()
  }

  /// Stops the thread (and closes its socket) before the context goes.
  public func stop() {
    guard !control.stopping.exchange(true, ordering: .relaxed) else { return }
    control.finished.wait()
  }

  deinit { stop() }

  /// The reply frames: version, request id, status code and text, user id, metadata.
  static func reply(
    to request: [[UInt8]], decide: (String, String) -> String?, refused: (String, String) -> Void
  ) -> [[UInt8]] {
    let id = request.count > 1 ? request[1] : []
    guard request.count >= 7, String(decoding: request[0], as: UTF8.self) == "1.0",
      String(decoding: request[5], as: UTF8.self) == "CURVE", request[6].count == 32
    else { return [Array("1.0".utf8), id, Array("400".utf8), Array("not a CURVE request".utf8), [], []] }
    let domain = String(decoding: request[2], as: UTF8.self)
    let key = z85(request[6])
    guard let user = decide(domain, key) else {
      refused(domain, key)
      return [Array("1.0".utf8), id, Array("400".utf8), Array("key not invited".utf8), [], []]
    }
    return [Array("1.0".utf8), id, Array("200".utf8), Array("OK".utf8), Array(user.utf8), []]
  }

  /// Z85 text of a 32-byte key (ZeroMQ RFC 32), by libzmq's own encoder.
  static func z85(_ bytes: [UInt8]) -> String {
    var text = [CChar](repeating: 0, count: bytes.count * 5 / 4 + 1)
    guard zmq_z85_encode(&text, bytes, bytes.count) != nil else { return "" }
    return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}

/// The handler's socket, handed to its thread once and used by that thread only.
// Unchecked: after `init` only the ZAP thread touches `socket`.
private final class SocketBox: @unchecked Sendable {
  private(set) var socket: ZMQSocket!
  init(_ socket: ZMQSocket) { self.socket = socket }
  func release() { socket = nil }
}
