import CZeroMQ
import Foundation

/// A ZeroMQ context. Sockets keep their context alive; the context ends when the last goes.
// Unchecked: a libzmq context is thread-safe (zmq_ctx docs); its sockets are not, and are not Sendable.
public final class ZMQContext: @unchecked Sendable {
  let handle: UnsafeMutableRawPointer

  public init() throws(ZMQError) {
    guard let h = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
    handle = h
  }
  deinit { zmq_ctx_term(handle) }
}

/// A socket failure, naming the endpoint and the system's reason.
public struct ZMQError: Error, CustomStringConvertible, Equatable {
  public init(operation: String, reason: String) { (self.operation, self.reason) = (operation, reason) }
  public var operation: String
  public var reason: String
  public var description: String { "\(operation): \(reason)" }

  static func last(_ operation: String) -> ZMQError {
    ZMQError(operation: operation, reason: String(cString: zmq_strerror(zmq_errno())))
  }
}

/// One ZeroMQ socket, owned by one thread (libzmq sockets are not thread-safe). Messages are
/// lists of frames (multipart).
public final class ZMQSocket {
  public enum Kind {
    case router, dealer, xpub, sub, rep
    var raw: Int32 {
      switch self {
      case .router: ZMQ_ROUTER
      case .dealer: ZMQ_DEALER
      case .xpub: ZMQ_XPUB
      case .sub: ZMQ_SUB
      case .rep: ZMQ_REP
      }
    }
  }

  /// A message and who sent it: the user id the ZAP handler gave the sender's key (nil without
  /// CURVE).
  public struct Received {
    public var frames: [[UInt8]]
    public var user: String?
  }

  let context: ZMQContext
  let handle: UnsafeMutableRawPointer

  /// A socket of `kind`; messages larger than `maximumMessageBytes` are refused by libzmq
  /// (`ZMQ_MAXMSGSIZE`), which drops the sending peer's connection.
  public init(_ context: ZMQContext, _ kind: Kind, maximumMessageBytes: Int64 = -1) throws(ZMQError) {
    self.context = context
    guard let h = zmq_socket(context.handle, kind.raw) else { throw ZMQError.last("zmq_socket") }
    handle = h
    try setOption(ZMQ_LINGER, Int32(2000))
    if maximumMessageBytes > 0 {
      var v = maximumMessageBytes
      guard zmq_setsockopt(handle, ZMQ_MAXMSGSIZE, &v, MemoryLayout<Int64>.size) == 0 else {
        throw ZMQError.last("ZMQ_MAXMSGSIZE")
      }
    }
    if kind == .sub { try setOption(ZMQ_SUBSCRIBE, bytes: []) }
    if kind == .router { try setOption(ZMQ_ROUTER_MANDATORY, Int32(1)) }
  }

  deinit { zmq_close(handle) }

  /// No high-water mark on either queue: messages wait however many there are, never dropped.
  public func keepEveryMessage() throws(ZMQError) {
    try setOption(ZMQ_SNDHWM, 0)
    try setOption(ZMQ_RCVHWM, 0)
  }

  public func setOption(_ option: Int32, _ value: Int32) throws(ZMQError) {
    var v = value
    guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int32>.size) == 0 else {
      throw ZMQError.last("zmq_setsockopt(\(option))")
    }
  }

  public func setOption(_ option: Int32, bytes: [UInt8]) throws(ZMQError) {
    guard bytes.withUnsafeBytes({ zmq_setsockopt(handle, option, $0.baseAddress, bytes.count) }) == 0 else {
      throw ZMQError.last("zmq_setsockopt(\(option))")
    }
  }

  /// Makes this socket a CURVE server with `secretKey`: every peer must complete the handshake
  /// and pass the ZAP handler for `domain`. Set before binding.
  public func serveCurve(secretKey: String, domain: String) throws(ZMQError) {
    try setOption(ZMQ_CURVE_SERVER, Int32(1))
    try setOption(ZMQ_CURVE_SECRETKEY, bytes: Array(secretKey.utf8))
    try setOption(ZMQ_ZAP_DOMAIN, bytes: Array(domain.utf8))
  }

  /// Makes this socket a CURVE client of the server whose public key is `serverKey`. Set before
  /// connecting.
  public func useCurve(serverKey: String, own: CurveKeyPair) throws(ZMQError) {
    try setOption(ZMQ_CURVE_SERVERKEY, bytes: Array(serverKey.utf8))
    try setOption(ZMQ_CURVE_PUBLICKEY, bytes: Array(own.publicKey.utf8))
    try setOption(ZMQ_CURVE_SECRETKEY, bytes: Array(own.secretKey.utf8))
  }

  /// Binds, and returns the endpoint actually bound (a `*` port resolved).
  @discardableResult
  public func bind(_ endpoint: String) throws(ZMQError) -> String {
    guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError.last("bind \(endpoint)") }
    var buffer = [CChar](repeating: 0, count: 256)
    var size = buffer.count
    guard zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else {
      throw ZMQError.last("ZMQ_LAST_ENDPOINT")
    }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  public func connect(_ endpoint: String) throws(ZMQError) {
    guard zmq_connect(handle, endpoint) == 0 else { throw ZMQError.last("connect \(endpoint)") }
  }

  /// Sends all frames as one message.
  public func send(_ frames: [[UInt8]]) throws(ZMQError) {
    for (i, frame) in frames.enumerated() {
      let flags = i < frames.count - 1 ? ZMQ_SNDMORE : 0
      let rc = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, frame.count, flags) }
      guard rc >= 0 else { throw ZMQError.last("send") }
    }
  }

  /// The next message, waiting at most `timeout` seconds (nil: none arrived).
  public func receive(timeout: Double) throws(ZMQError) -> [[UInt8]]? { try receiveMessage(timeout: timeout)?.frames }

  /// The next message with its sender's user id, waiting at most `timeout` seconds.
  public func receiveMessage(timeout: Double) throws(ZMQError) -> Received? {
    var item = zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
    let rc = zmq_poll(&item, 1, Int(timeout * 1000))
    if rc < 0 {
      if zmq_errno() == EINTR { return nil }
      throw ZMQError.last("poll")
    }
    guard rc > 0 else { return nil }
    var received = Received(frames: [], user: nil)
    repeat {
      var msg = zmq_msg_t()
      zmq_msg_init(&msg)
      defer { zmq_msg_close(&msg) }
      guard zmq_msg_recv(&msg, handle, 0) >= 0 else { throw ZMQError.last("receive") }
      if received.user == nil, let user = zmq_msg_gets(&msg, "User-Id") { received.user = String(cString: user) }
      let size = zmq_msg_size(&msg)
      let data = zmq_msg_data(&msg)
      received.frames.append(size == 0 || data == nil ? [] : [UInt8](UnsafeRawBufferPointer(start: data, count: size)))
    } while hasMore
    return received
  }

  private var hasMore: Bool {
    var more: Int32 = 0
    var size = MemoryLayout<Int32>.size
    zmq_getsockopt(handle, ZMQ_RCVMORE, &more, &size)
    return more != 0
  }
}
