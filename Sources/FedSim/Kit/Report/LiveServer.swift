import Adversary
import FedData
import FedSimCore
import FlyingFox
import FlyingSocks
import Foundation
import Mustache
import Tensors

/// `fedsim run --serve`: the running scenario, live, for projecting in class. FlyingFox serves
/// it on 127.0.0.1 only (never another address):
/// - `/`: the page (a Mustache template), which fills the screen;
/// - `/socket`: a WebSocket pushing the state (`LiveState`) whenever it changes, so nothing polls;
/// - `/state.json`: the same state, once;
/// - `/live.png`: the client's private image above the adversary's current reconstruction (404
///   until there is one: the page shows the picture only once the state says it exists).
public final class LiveServer: Sendable {
  public let port: Int
  private let server: HTTPServer
  private let current = Locked<(folder: RunFolder?, label: String, point: Int, points: Int, finished: [String]?)>((nil, "", 0, 0, nil))

  /// Seconds a request's handler may take before FlyingFox answers 500 instead. The handlers
  /// themselves take milliseconds; the margin is for a concurrency pool that other work keeps
  /// busy (under the test runner, several seconds).
  static let requestPatience: Double = 30

  /// The priority the server's tasks run at: above the default, so that a pool full of ready
  /// work (a loaded run; the test runner's hundreds of tests) runs the live view's jobs first
  /// instead of after all of it (at the default it waited minutes behind the tests under CI).
  static let priority = TaskPriority.high

  private init(server: HTTPServer, port: Int, points: Int) {
    (self.server, self.port) = (server, port)
    current.withLock { $0.points = points }
  }

  /// Binds 127.0.0.1:`port` (0: any free port) and serves until the process ends; `points`
  /// is how many points (and repeats) the run has. A bind that fails (the port taken, say) is
  /// reported as soon as the server task ends; one still starting is waited for up to `patience`
  /// seconds (a loaded machine can keep the concurrency pool busy for a while).
  public static func start(port: Int, points: Int = 0, patience: Double = 180) async throws -> LiveServer {
    guard let p = UInt16(exactly: port) else { throw FederationError.failed("--serve: \(port) is not a port") }
    let server = HTTPServer(address: try sockaddr_in.inet(ip4: "127.0.0.1", port: p), timeout: Self.requestPatience, logger: .disabled)
    let failure = Locked<(any Error)?>(nil)
    // Every task the server makes (connections, handlers, the WebSocket's pusher) inherits this
    // priority: FlyingFox's own unstructured tasks inherit a priority, never an executor.
    let running = Task(priority: Self.priority) {
      do { try await server.run() } catch { failure.withLock { $0 = error } }
    }
    func fail(_ why: String) -> FederationError {
      running.cancel()
      return FederationError.failed("--serve: cannot listen on 127.0.0.1:\(port) (\(why))")
    }
    let deadline = ContinuousClock.now + .seconds(patience)
    while await !server.isListening {
      if let error = failure.withLock({ $0 }) { throw fail("\(error)") }
      guard ContinuousClock.now < deadline else { throw fail("not listening after \(Int(patience)) s") }
      try? await Task.sleep(for: .milliseconds(5))
    }
    guard case .ip4(_, let actual)? = await server.listeningAddress else { throw fail("no address") }
    let live = LiveServer(server: server, port: Int(actual), points: points)
    await LiveRoutes(state: { [current = live.current] in state(current.withLock { $0 }) }, picture: { [current = live.current] in
      current.withLock { $0.folder }.flatMap(picture)
    }).install(on: server)
    return live
  }

  /// `start`, for a caller outside Swift concurrency (the command line's main thread): it
  /// blocks this thread, never one of the concurrency pool's, until the server listens.
  public static func open(port: Int, points: Int = 0) throws -> LiveServer {
    let outcome = Locked<Result<LiveServer, any Error>?>(nil)
    let ready = DispatchSemaphore(value: 0)
    Task(priority: Self.priority) {
      do {
        let live = try await start(port: port, points: points)
        outcome.withLock { $0 = .success(live) }
      } catch {
        outcome.withLock { $0 = .failure(error) }
      }
      ready.signal()
    }
    ready.wait()
    switch outcome.withLock({ $0 }) {
    case .success(let live): return live
    case .failure(let error): throw error
    case nil: throw FederationError.failed("--serve: the server did not start")
    }
  }

  /// The point now running: its folder, its label, and which of the run's points it is.
  public func show(_ folder: RunFolder, label: String) {
    current.withLock { c in
      (c.folder, c.label) = (folder, label)
      c.point += 1
    }
  }

  /// The run has finished: the page says so, with the summary's lines.
  public func finish(_ lines: [String]) { current.withLock { $0.finished = lines } }

  /// What the page shows, read from the point's folder.
  static func state(_ c: (folder: RunFolder?, label: String, point: Int, points: Int, finished: [String]?)) -> LiveState {
    var s = LiveState(setting: c.label, point: c.point, points: c.points, finished: c.finished != nil, summary: c.finished ?? [])
    guard let folder = c.folder else { return s }
    s.clients = EventLog.events(in: folder.events("server"), named: "client_joined").count
    let records = (try? folder.readJSON([RoundRecord].self, from: folder.rounds)) ?? []
    s.rounds = records.count
    s.accuracy = records.last?.testAccuracy.map { 100 * $0 }
    if let live = LiveSnapshot(folder) {
      s.iteration = Int(live.file.metadata["iteration"] ?? "")
      s.of = Int(live.file.metadata["of"] ?? "")
      s.distance = Double(live.file.metadata["distance"] ?? "")
      if let round = live.round, let client = live.client { s.victim = "client \(client), round \(round)" }
      if let truth = live.truth { s.psnr = Leakage.matchedMSE(reconstruction: live.reconstruction, truth: truth).map(Leakage.psnr(mse:)).min() }
      s.picture = true
      s.version = "\(live.path):\(s.iteration ?? 0)"
    }
    return s
  }

  static func picture(_ folder: RunFolder) -> [UInt8]? {
    guard let live = LiveSnapshot(folder) else { return nil }
    let rows = (live.truth.map { [$0] } ?? []) + [live.reconstruction]
    return Pictures.grid(rows: rows, scale: Swift.max(1, 192 / live.reconstruction.shape[2]))
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
}

/// The adversary's latest snapshot in a point's folder (`live/r<R>-c<C>.safetensors`): its
/// reconstruction, whose update it is, and the private batch it is scored against (when the
/// client's truth is there with the same shape).
struct LiveSnapshot {
  let path: String
  let file: SafetensorsFile
  let reconstruction: Tensor
  let round: Int?, client: Int?
  let truth: Tensor?

  init?(_ folder: RunFolder) {
    guard let path = LiveServer.latestLive(folder), let file = try? SafetensorsFile(contentsOf: path),
      let reconstruction = try? file.tensor("reconstruction")
    else { return nil }
    (self.path, self.file, self.reconstruction) = (path, file, reconstruction)
    let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent  // r<R>-c<C>
    let parts = name.dropFirst().split(separator: "-c").compactMap { Int($0) }
    (round, client) = parts.count == 2 ? (parts[0], parts[1]) : (nil, nil)
    if let round, let client, let t = try? PrivateBatch(contentsOf: folder.truth(round: round, client: client)).images, t.shape == reconstruction.shape {
      truth = t
    } else {
      truth = nil
    }
  }
}

/// The live page's state, as the WebSocket pushes it and `/state.json` answers.
struct LiveState: Codable, Equatable, Sendable {
  var setting = ""
  var point = 0
  var points = 0
  var finished = false
  var summary: [String] = []
  var clients = 0
  var rounds = 0
  var accuracy: Double?
  var victim: String?
  var iteration: Int?
  var of: Int?
  var distance: Double?
  var psnr: Double?
  var picture = false
  /// Changes whenever the picture does (the page reloads it then).
  var version = ""

  var json: String { (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}" }
}

/// The routes, and the WebSocket that pushes each new state.
struct LiveRoutes: Sendable {
  let state: @Sendable () -> LiveState
  let picture: @Sendable () -> [UInt8]?

  func install(on server: HTTPServer) async {
    let page = LivePage.render()
    await server.appendRoute("GET /") { _ in
      HTTPResponse(statusCode: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"], body: Data(page.utf8))
    }
    await server.appendRoute("GET /state.json") { [state] _ in
      HTTPResponse(statusCode: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: Data(state().json.utf8))
    }
    await server.appendRoute("GET /live.png") { [picture] _ in
      guard let png = picture() else { return HTTPResponse(statusCode: .notFound) }
      return HTTPResponse(statusCode: .ok, headers: [.contentType: "image/png", .cacheControl: "no-store"], body: Data(png))
    }
    await server.appendRoute("GET /socket", to: .webSocket(StatePusher(state: state)))
    await server.appendRoute("*") { _ in HTTPResponse(statusCode: .notFound) }
  }
}

/// Sends the state as a text message at once and again each time it changes (looked at every
/// quarter second), until the viewer leaves.
struct StatePusher: WSMessageHandler {
  let state: @Sendable () -> LiveState

  func makeMessages(for client: AsyncStream<WSMessage>) async throws -> AsyncStream<WSMessage> {
    let (out, continuation) = AsyncStream<WSMessage>.makeStream()
    let pusher = Task {
      var last: LiveState?
      while !Task.isCancelled {
        let now = state()
        if now != last {
          continuation.yield(.text(now.json))
          last = now
        }
        try? await Task.sleep(nanoseconds: 250_000_000)
      }
    }
    Task {
      for await _ in client {}  // the viewer's messages are ignored; their end is the end
      pusher.cancel()
      continuation.finish()
    }
    return out
  }
}
