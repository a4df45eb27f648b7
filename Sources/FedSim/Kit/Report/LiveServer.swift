import FedData
import FedSimCore
import Foundation
import Tensors

#if canImport(Glibc)
  import Glibc
#endif

/// `fedsim run --serve`: a small HTTP server on 127.0.0.1 (never another address) showing the
/// running scenario live, for projecting in class: the point under way, rounds and clients from
/// the server's events, and the adversary's current reconstruction beside the truth.
// Unchecked: `folder`, `label` and `active` are only touched under `lock`; `socket` and `port` are immutable.
public final class LiveServer: @unchecked Sendable {
  public let port: Int
  private let socket: Int32
  private let lock = NSLock()
  private var folder: RunFolder?
  private var label = ""
  private var active = 0

  /// Binds 127.0.0.1:`port` (0: any free port) and starts serving on its own thread.
  public init(port: Int) throws {
    let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw FederationError.failed("--serve: cannot open a socket") }
    var yes: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(fd, 16) == 0 else {
      close(fd)
      throw FederationError.failed("--serve: cannot listen on 127.0.0.1:\(port) (\(String(cString: strerror(errno))))")
    }
    var actual = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    self.port = Int(UInt16(bigEndian: actual.sin_port))
    socket = fd
    Thread { [self] in serve() }.start()
  }

  /// The point now running.
  public func show(_ folder: RunFolder, label: String) { lock.withLock { (self.folder, self.label) = (folder, label) } }

  /// Connections served at once; more are closed at once (a crowd of idle sockets cannot
  /// freeze the view).
  static let connections = 32
  /// Seconds a connection may take to send its request or take the answer.
  public static let patience = 2

  private func serve() {
    while true {
      let client = accept(socket, nil, nil)
      guard client >= 0 else { continue }
      guard lock.withLock({ () -> Bool in
        guard active < Self.connections else { return false }
        active += 1
        return true
      }) else {
        close(client)
        continue
      }
      Thread { [self] in
        answer(client)
        lock.withLock { active -= 1 }
      }.start()
    }
  }

  /// Reads one request (waiting at most `patience`), answers it and closes the connection.
  private func answer(_ client: Int32) {
    defer { close(client) }
    var timeout = timeval(tv_sec: Self.patience, tv_usec: 0)
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var buffer = [UInt8](repeating: 0, count: 4096)
    let n = read(client, &buffer, buffer.count)
    guard n > 0 else { return }
    let request = String(decoding: buffer[0..<n], as: UTF8.self)
    let path = request.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
    let (type, body) = respond(to: String(path.split(separator: "?").first ?? "/"))
    var head = "HTTP/1.1 \(body == nil ? "404 Not Found" : "200 OK")\r\nContent-Type: \(type)\r\n"
    head += "Content-Length: \(body?.count ?? 0)\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
    let bytes = Array(head.utf8) + (body ?? [])
    var sent = 0
    while sent < bytes.count {
      // MSG_NOSIGNAL: a viewer that hangs up must not kill the launcher with SIGPIPE.
      let k = bytes[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      guard k > 0 else { return }
      sent += k
    }
  }

  func respond(to path: String) -> (String, [UInt8]?) {
    let (folder, label) = lock.withLock { (self.folder, self.label) }
    switch path {
    case "/": return ("text/html; charset=utf-8", Array(Self.page.utf8))
    case "/state.json":
      var state: [String: Any] = ["setting": label]
      if let folder {
        state["clients"] = EventLog.events(in: folder.events("server"), named: "client_joined").count
        let records = (try? folder.readJSON([RoundRecord].self, from: folder.rounds)) ?? []
        state["rounds"] = records.count
        state["accuracy"] = records.last?.testAccuracy
        if let live = try? SafetensorsFile(contentsOf: Self.latestLive(folder) ?? "") {
          state["iteration"] = Int(live.metadata["iteration"] ?? "")
          state["of"] = Int(live.metadata["of"] ?? "")
          state["distance"] = Double(live.metadata["distance"] ?? "")
        }
      }
      return ("application/json", (try? JSONSerialization.data(withJSONObject: state)).map(Array.init))
    case "/live.png":
      guard let folder, let path = Self.latestLive(folder), let live = try? SafetensorsFile(contentsOf: path),
        let recon = try? live.tensor("reconstruction")
      else { return ("image/png", nil) }
      let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent  // r<R>-c<C>
      let parts = name.dropFirst().split(separator: "-c").compactMap { Int($0) }
      var rows = [recon]
      if parts.count == 2, let truth = try? PrivateBatch(contentsOf: folder.truth(round: parts[0], client: parts[1])).images,
        truth.shape == recon.shape
      {
        rows.insert(truth, at: 0)
      }
      return ("image/png", Pictures.grid(rows: rows, scale: Swift.max(1, 192 / recon.shape[2])))
    default: return ("text/plain", nil)
    }
  }

  static func latestLive(_ folder: RunFolder) -> String? {
    let dir = folder.path + "/live"
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".safetensors") }
    return names.map { dir + "/" + $0 }.max {
      let a = (try? FileManager.default.attributesOfItem(atPath: $0)[.modificationDate] as? Date) ?? .distantPast
      let b = (try? FileManager.default.attributesOfItem(atPath: $1)[.modificationDate] as? Date) ?? .distantPast
      return a < b
    }
  }

  static let page = """
    <!doctype html><html lang="en"><head><meta charset="utf-8"><title>FedSim live</title>
    <style>body{background:#111;color:#eee;font-family:system-ui,sans-serif;text-align:center}
    img{image-rendering:pixelated;margin-top:1em}#s{font-size:28px}</style></head><body>
    <h1>What the honest-but-curious server sees</h1><div id="s">waiting for the run…</div>
    <p>top: the client's private image · bottom: the server's reconstruction from the gradient alone</p>
    <img id="i" alt="reconstruction" src="/live.png">
    <script>
    async function tick(){try{const s=await (await fetch('/state.json')).json();
    let t=(s.setting||'')+' · clients '+(s.clients||0)+' · rounds done '+(s.rounds||0);
    if(s.iteration!=null)t+=' · attack iteration '+s.iteration+'/'+s.of+' · distance '+Number(s.distance).toExponential(2);
    document.getElementById('s').textContent=t;document.getElementById('i').src='/live.png?'+Date.now();}catch(e){}}
    setInterval(tick,1000);tick();
    </script></body></html>
    """
}
