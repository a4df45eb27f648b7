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
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
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

  @Test("idle connections that never send a request do not hold up anyone else, and are closed by the server")
  func idleConnections() async throws {
    let server = try LiveServer(port: 0)
    // Bounded only to turn a hang (a server stuck on an idle connection) into a failure.
    let outcome = bounded(seconds: 60) { () -> ((String, String), [Int]) in
      let idle = (0..<4).compactMap { _ in Self.connectIdle(server.port) }
      defer { idle.forEach { close($0) } }
      let page = Self.get(server.port, "/state.json")  // answered while the idle four stay open
      // The server gives up on each idle connection: a read then sees it closed (0 bytes).
      let closed = idle.map { fd -> Int in
        var byte: UInt8 = 0
        return read(fd, &byte, 1)
      }
      return (page, closed)
    }
    let (page, closed) = try #require(outcome, "the live view hung behind idle connections")
    #expect(page.0 == "HTTP/1.1 200 OK")
    #expect(closed == [0, 0, 0, 0], "idle connections left open: \(closed)")
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
    return fd
  }

  @Test("it serves the page and the state on 127.0.0.1, and 404 for anything else")
  func serves() async throws {
    let server = try LiveServer(port: 0)
    #expect(server.port > 0)
    let (page, state, missing, noImage) = try await onThread {
      (Self.get(server.port, "/"), Self.get(server.port, "/state.json"), Self.get(server.port, "/secret"), Self.get(server.port, "/live.png"))
    }
    #expect(page.0 == "HTTP/1.1 200 OK" && page.1.contains("What the honest-but-curious server sees"))
    #expect(state.0 == "HTTP/1.1 200 OK")
    let json = try JSONSerialization.jsonObject(with: Data(state.1.utf8)) as? [String: Any]
    #expect(json?["setting"] as? String == "")
    #expect(missing.0 == "HTTP/1.1 404 Not Found" && noImage.0 == "HTTP/1.1 404 Not Found")
  }
}
