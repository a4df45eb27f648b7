import FedData
import FedSimCore
import FedSimKit
import FedServer
import FedClient
import AdversaryRole
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("Live view")
struct LiveServerTests {
  /// A plain HTTP GET over a socket: the status line and the body.
  static func get(_ port: Int, _ path: String) -> (String, String) {
    guard let fd = connectIdle(port) else { return ("no connection", "") }
    defer { close(fd) }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { write(fd, $0.baseAddress, request.count) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = read(fd, &buffer, buffer.count)
      if n <= 0 { break }
      response += buffer[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    let parts = text.components(separatedBy: "\r\n\r\n")
    return (parts[0].components(separatedBy: "\r\n")[0], parts.dropFirst().joined(separator: "\r\n\r\n"))
  }

  @Test("forty idle connections that never send a request do not hold up anyone else")
  func idleConnections() async throws {
    let server = try await LiveServer.start(port: 0)
    // Bounded only to turn a hang (a server stuck behind idle connections) into a failure.
    // Off the concurrency pool (the server's tasks need it); a socket read is bounded.
    let outcome: (String, String)? = try await onThread { () -> (String, String) in
      let idle = (0..<40).compactMap { _ in Self.connectIdle(server.port) }
      defer { idle.forEach { close($0) } }
      return Self.get(server.port, "/state.json")  // answered while the idle forty stay open
    }
    let page = try #require(outcome, "the live view hung behind idle connections")
    #expect(page.0 == "HTTP/1.1 200 OK")
  }

  @Test("a pool full of ready work runs the live view's jobs first, not after all of it")
  func busyPool() async throws {
    let server = try await LiveServer.start(port: 0)
    // Two hundred ready jobs of 10 ms at the default priority: a second of work on two cores,
    // queued before the request arrives (as the test runner's own tests are under CI).
    let load = 200
    let done = Locked(0)
    for _ in 0..<load {
      Task.detached(priority: .medium) {
        let end = ContinuousClock.now + .milliseconds(10)
        while ContinuousClock.now < end {}
        done.withLock { $0 += 1 }
      }
    }
    let (page, doneBefore) = try await onThread { (Self.get(server.port, "/state.json"), done.withLock { $0 }) }
    try await onThread { while done.withLock({ $0 }) < load { usleep(1000) } }
    #expect(page.0 == "HTTP/1.1 200 OK")
    // Behind the queue, the answer would come after all two hundred.
    #expect(doneBefore < load / 2, "the live view answered only after \(doneBefore) of \(load) queued jobs")
  }

  @Test("the WebSocket pushes the state at once, and again when the run finishes")
  func pushes() async throws {
    let server = try await LiveServer.start(port: 0, points: 3)
    let outcome: [String]? = try await onThread { () -> [String] in
      guard let fd = Self.connectIdle(server.port) else { return [] }
      defer { close(fd) }
      let handshake = "GET /socket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
      let bytes = Array(handshake.utf8)
      _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, bytes.count) }
      var messages: [String] = []
      var buffer: [UInt8] = []
      var chunk = [UInt8](repeating: 0, count: 4096)
      var finished = false
      while messages.count < 2 {
        let n = read(fd, &chunk, chunk.count)
        guard n > 0 else { break }
        buffer += chunk[0..<n]
        if let end = buffer.firstRange(of: Array("\r\n\r\n".utf8)), String(decoding: buffer[..<end.lowerBound], as: UTF8.self).hasPrefix("HTTP/1.1 101") {
          buffer.removeSubrange(..<end.upperBound)
        }
        // Unmasked server frames: 0x81, a 7-bit length (or 126 and 16 bits).
        while buffer.count >= 2, buffer[0] == 0x81 {
          let (length, head) = buffer[1] == 126 ? (buffer.count >= 4 ? Int(buffer[2]) << 8 | Int(buffer[3]) : Int.max, 4) : (Int(buffer[1]), 2)
          guard buffer.count >= head + length else { break }
          messages.append(String(decoding: buffer[head..<(head + length)], as: UTF8.self))
          buffer.removeSubrange(..<(head + length))
          if !finished {
            server.finish(["noise=0.1: PSNR 9.0 dB"])
            finished = true
          }
        }
      }
      return messages
    }
    let messages = try #require(outcome, "the WebSocket hung")
    #expect(messages.count == 2, "\(messages)")
    let states = messages.compactMap { try? JSONDecoder().decode(LiveStateProbe.self, from: Data($0.utf8)) }
    #expect(states.first?.finished == false && states.first?.points == 3 && states.first?.picture == false)
    #expect(states.last?.finished == true && states.last?.summary == ["noise=0.1: PSNR 9.0 dB"])
  }

  struct LiveStateProbe: Decodable {
    var finished: Bool
    var points: Int
    var picture: Bool
    var summary: [String]
  }

  /// A TCP connection to 127.0.0.1:`port` that has sent nothing yet (nil: refused).
  static func connectIdle(_ port: Int) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
      close(fd)
      return nil
    }
    // A hung server becomes a failed read, not a hung test; generous, because other suites may
    // hold the concurrency pool the server's tasks run on for a minute (seen under CI).
    var timeout = timeval(tv_sec: 180, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return fd
  }

  @Test("it serves the page and the state on 127.0.0.1, and 404 for anything else")
  func serves() async throws {
    let server = try await LiveServer.start(port: 0)
    #expect(server.port > 0)
    let (page, state, missing, noImage) = try await onThread {
      (Self.get(server.port, "/"), Self.get(server.port, "/state.json"), Self.get(server.port, "/secret"), Self.get(server.port, "/live.png"))
    }
    #expect(page.0 == "HTTP/1.1 200 OK" && page.1.contains("What the honest-but-curious server sees"))
    #expect(page.1.contains("new WebSocket") && !page.1.contains("{{"), "the page's template was not filled")
    #expect(state.0 == "HTTP/1.1 200 OK")
    let json = try JSONSerialization.jsonObject(with: Data(state.1.utf8)) as? [String: Any]
    #expect(json?["setting"] as? String == "")
    #expect(missing.0 == "HTTP/1.1 404 Not Found" && noImage.0 == "HTTP/1.1 404 Not Found")
  }

  @Test("a port already taken is reported at once, naming the port and the reason")
  func takenPort() async throws {
    let first = try await LiveServer.start(port: 0)
    // A short patience: the failure must come from the bind, not from running out of time.
    let error = await #expect(throws: FederationError.self) { try await LiveServer.start(port: first.port, patience: 30) }
    let text = "\(error.map { "\($0)" } ?? "")"
    #expect(text.contains("127.0.0.1:\(first.port)") && text.contains("ddress already in use"), "\(text)")
    #expect(!text.contains("not listening after"), "the bind's failure waited out the patience: \(text)")
  }
}
