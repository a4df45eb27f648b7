import Adversary
import FedData
import FedSimCore
import FedSimKit
import FedServer
import FedClient
import AdversaryRole
import Foundation
import Tensors
import TestSupport
import Testing

/// Runs `body` on its own thread (libzmq sockets block; Swift's cooperative pool must not).
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    Thread { continuation.resume(with: Result { try body() }) }.start()
  }
}

extension Background where T: Sendable {
  /// The result, awaited off the cooperative pool.
  var value: T { get async throws { try await onThread { try self.get() } } }
}

@Suite("Federation: server, clients and adversary over ZeroMQ", .serialized)
struct FederationTests {
  static func folder(_ yaml: String) throws -> RunFolder {
    let folder = RunFolder(TemporaryPath.make("fedsim-run"))
    try folder.create()
    let scenario = try TestScenario.resolve(yaml)
    try folder.writeJSON(scenario, to: folder.scenario)
    if let brief = AdversaryBrief(scenario) { try folder.writeJSON(brief, to: folder.brief) }
    if scenario.federation.security == .curve { try CurveKeyring.make(in: folder, clients: scenario.federation.clients) }
    return folder
  }

  /// A DEALER connected to the folder's server, holding `role`'s CURVE key (a rogue client that
  /// stole or owns it).
  static func dealer(_ context: ZMQContext, _ folder: RunFolder, as role: String) throws -> ZMQSocket {
    let socket = try ZMQSocket(context, .dealer)
    try CurveKeyring.secure(socket, as: role, in: folder)
    try socket.connect(try folder.readEndpoints().clients)
    return socket
  }

  /// The plan of a scenario written inline, in a fresh temporary run folder, run by this build's
  /// binaries.
  static func plan(_ yaml: String, folder name: String) throws -> RunPlan {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let scenario = try TestScenario.file(yaml)
    let folder = RunFolder(TemporaryPath.make(name))
    return try RunPlan(design: scenario.design(source: "t"), file: scenario, folder: folder, binaries: binaries)
  }

  static func events(_ folder: RunFolder, _ role: String) -> [[String: Any]] {
    let text = (try? String(contentsOfFile: folder.events(role), encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
  }

  static func waitForEndpoints(_ folder: RunFolder) throws -> Endpoints {
    let end = Date().addingTimeInterval(20)
    while Date() < end {
      if let e = try? folder.readEndpoints() { return e }
      Thread.sleep(forTimeInterval: 0.02)
    }
    throw FederationError.failed("no endpoints")
  }

  static let twoClients = """
    name: t
    dataset: {path: shapes, count: 20}
    federation: {clients: 2, rounds: 1, deadline: 8, quorum: 1}
    """

  @Test("a live server drops malformed and unexpected messages, with reasons, and keeps serving")
  func survivesMalformedMessages() async throws {
    let folder = try Self.folder(Self.twoClients)
    var server = try FederatedServer(folder: folder)
    server.maximumMessageBytes = 1 << 20
    let serverDone = Background { [server] in try server.run() }
    // Everything from here to the last message runs on one thread: a hop back to the busy
    // cooperative pool could outlast the server's registration deadline.
    let (updates, client0) = try await onThread { () -> (Int, Background<Void>) in
      _ = try Self.waitForEndpoints(folder)
      let client0 = Background { try FederatedClient(folder: folder, id: 0).run() }
      let context = try ZMQContext()
      let rogue = try Self.dealer(context, folder, as: "client-1")
      try rogue.send(WireMessage(.hello(Hello(run: "t", client: 1))).frames())
      guard let frames = try rogue.receive(timeout: 15) else { throw FederationError.failed("no model came") }
      let model = try WireMessage(frames: frames)
      let zeros = model.tensors.map { (name: $0.name, tensor: Tensor.zeros($0.tensor.shape)) }
      func update(
        run: String = "t", round: Int = 1, client: Int = 1, examples: Int = 1, tensors: [(name: String, tensor: Tensor)]? = nil,
        hello: Bool = false
      ) -> [[UInt8]] {
        let header = UpdateHeader(run: run, round: round, client: client, examples: examples, batch: 1, steps: 1)
        let body: WireBody = hello ? .hello(Hello(run: run, client: client)) : .update(header)
        return WireMessage(body, tensors: tensors ?? zeros).frames()
      }
      var bad = MalformedFrames.undecodable.map(\.1)
      bad.append(update(run: "other"))
      bad.append(update(round: 7))
      bad.append(update(client: 5))
      bad.append(update(client: 0))  // not this socket's identity
      bad.append(update(tensors: zeros.map { (name: $0.name + "x", tensor: $0.tensor) }))
      bad.append(update(tensors: zeros.map { (name: $0.name, tensor: Tensor.zeros([$0.tensor.scalarCount])) }))
      bad.append(update(tensors: Array(zeros.dropLast())))
      bad.append(update(hello: true))
      bad.append(update(examples: 1_000_000))  // more examples than client 1 holds
      bad.append(update(examples: -2))  // out of bounds: rejected by the decoder
      for frames in bad { try rogue.send(frames) }
      // Larger than the server's ZMQ_MAXMSGSIZE: libzmq drops that peer's connection.
      let big = try Self.dealer(context, folder, as: "client-1")
      try big.send([[UInt8](repeating: 7, count: 2 << 20)])
      // And then a proper update, which must still be taken.
      try rogue.send(update())
      return (bad.count, client0)
    }
    try await serverDone.value
    try await client0.value
    let log = Self.events(folder, "server")
    let dropped = log.filter { $0["event"] as? String == "dropped" }
    #expect(updates >= 29)
    #expect(dropped.count == updates, "\(dropped.map { $0["reason"] ?? "" })")
    #expect(dropped.allSatisfy { ($0["reason"] as? String)?.isEmpty == false })
    let finished = log.first { $0["event"] as? String == "round_finished" }
    #expect(finished?["updates"] as? Int == 2)
  }

  @Test("a client that dies after joining: the round closes at its deadline with the quorum")
  func deadClient() async throws {
    let folder = try Self.folder(Self.twoClients.replacingOccurrences(of: "deadline: 8", with: "deadline: 2"))
    let server = try FederatedServer(folder: folder)
    let serverDone = Background { try server.run() }
    let client0 = try await onThread { () -> Background<Void> in
      _ = try Self.waitForEndpoints(folder)
      let client0 = Background { try FederatedClient(folder: folder, id: 0).run() }
      let context = try ZMQContext()
      let doomed = try Self.dealer(context, folder, as: "client-1")
      try doomed.send(WireMessage(.hello(Hello(run: "t", client: 1))).frames())
      _ = try doomed.receive(timeout: 10)  // the round's model; then it dies without answering
      return client0
    }
    try await serverDone.value
    try await client0.value
    let finished = Self.events(folder, "server").first { $0["event"] as? String == "round_finished" }
    #expect(finished?["updates"] as? Int == 1 && finished?["missing"] as? Int == 1)
  }

  @Test("fedsim run's launcher runs the real binaries end to end and scores the reconstruction")
  func endToEnd() async throws {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    for name in ["fed-server", "fed-client", "fed-adversary"] {
      try #require(FileManager.default.isExecutableFile(atPath: binaries + "/" + name), "\(name) is not built in \(binaries)")
    }
    let scenario = try TestScenario.resolve(
      """
        name: e2e
        dataset: {path: shapes, count: 24}
        federation: {clients: 3, rounds: 2, deadline: 20, quorum: 2}
        attack: {method: idlg, iterations: 40, rounds: [2], victims: [1]}
        defenses: [{clip: 100}]
        """)
    let folder = RunFolder(TemporaryPath.make("fedsim-e2e"))
    let summary = try await onThread { try Launcher(scenario: scenario, folder: folder, binaries: binaries).run() }
    #expect(summary.rows.count == 1)
    let row = try #require(summary.rows.first)
    #expect(row.round == 2 && row.client == 1 && row.method == "idlg" && row.defenses == "clip=100.0")
    #expect(row.labelAccuracy == 1 && row.psnr > 10)
    #expect(summary.testAccuracy != nil)
    for file in ["summary.csv", "summary.json", "report.md", "scenario.json", "truth/r2-c1.safetensors", "reconstructions/r2-c1.safetensors"] {
      #expect(FileManager.default.fileExists(atPath: folder.path + "/" + file), "\(file) missing")
    }
    let rounds = Self.events(folder, "server").filter { $0["event"] as? String == "round_finished" }
    #expect(rounds.count == 2 && rounds.allSatisfy { $0["updates"] as? Int == 3 })
  }
}

extension FederationTests {
  @Test("secure aggregation: the adversary gets only the aggregate, and attacks the whole union batch")
  func secureAggregation() async throws {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let scenario = try TestScenario.resolve(
      """
        name: secagg
        dataset: {path: shapes, count: 24}
        federation: {clients: 3, rounds: 1, deadline: 20, quorum: 3}
        attack: {method: idlg, iterations: 5, victims: [0]}
        secure_aggregation: true
        """)
    let folder = RunFolder(TemporaryPath.make("fedsim-secagg"))
    let summary = try await onThread { try Launcher(scenario: scenario, folder: folder, binaries: binaries).run() }
    #expect(summary.rows.count == 1)
    let row = try #require(summary.rows.first)
    #expect(row.client == -1)
    let recon = try Reconstruction(contentsOf: folder.reconstruction(round: 1, client: -1))
    #expect(recon.images.shape[0] == 3 && recon.clients == [0, 1, 2])
    // The labels of the union batch are still read off the aggregate.
    #expect(row.labelAccuracy >= 2.0 / 3)
    // The history gives each snapshot's worst and mean PSNR over the three images.
    let history = try String(contentsOfFile: folder.history(round: 1, client: -1), encoding: .utf8)
    let lines = history.split(separator: "\n")
    #expect(lines.first == "iteration,gradient_distance,min_psnr_db,mean_psnr_db")
    var snapshots: [(worst: Double, mean: Double)] = []
    for line in lines.dropFirst() {
      let fields = line.split(separator: ",", omittingEmptySubsequences: false)
      if fields.count == 4, let worst = Double(fields[2]), let mean = Double(fields[3]) { snapshots.append((worst, mean)) }
    }
    #expect(!snapshots.isEmpty && snapshots.allSatisfy { $0.0 <= $0.1 } && snapshots.contains { $0.0 < $0.1 }, "\(history)")
  }

  @Test("DP-SGD runs on every client and the summary reports the ε the accountant gives")
  func dpsgdEpsilon() async throws {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let scenario = try TestScenario.resolve(
      """
        name: dp
        dataset: {path: shapes, count: 24}
        federation: {clients: 2, rounds: 3, local_batch: 2, deadline: 20}
        dp_sgd: {clip: 1, noise_multiplier: 1.5, delta: 1e-6}
        """)
    let folder = RunFolder(TemporaryPath.make("fedsim-dp"))
    let summary = try await onThread { try Launcher(scenario: scenario, folder: folder, binaries: binaries).run() }
    // Three rounds, one DP-SGD step each, sampling rate 2/n_c; the largest ε over clients.
    let setup = try FederationSetup(scenario)
    let expected = try #require(setup.clientIndices.map {
      RDPAccountant.epsilon(q: 2 / Double($0.count), sigma: 1.5, steps: 3, delta: 1e-6).epsilon
    }.max())
    #expect(expected > 0 && abs((summary.epsilon ?? -1) - expected) < 1e-9 && summary.delta == 1e-6)
    // The server's round records carry ε as it grows, round by round.
    let eps = summary.rounds.compactMap(\.epsilon)
    #expect(eps.count == 3 && eps[0] < eps[1] && eps[1] < eps[2] && eps[2] == summary.epsilon)
  }
}

@Suite("Sweeps and resume")
struct SweepTests {
  /// report.html is one file: every image an inline data URI that decodes, no reference to
  /// anything outside it, a table row and a grid per setting, and the charts.
  static func checkSelfContainedReport(_ path: String, settings: [String]) throws {
    let html = try String(contentsOfFile: path, encoding: .utf8)
    #expect(html.hasPrefix("<!doctype html>") && html.contains("</html>"))
    for attribute in ["src=", "href=", "url(", "@import", "<link", "<script"] {
      var rest = Substring(html)
      while let r = rest.range(of: attribute) {
        let after = rest[r.upperBound...].drop { $0 == "'" || $0 == "\"" }
        // Pictures are inline PNGs; links download the charts' inline SVG and CSV.
        let inline = (attribute == "src=" && after.hasPrefix("data:image/png;base64,"))
          || (attribute == "href=" && (after.hasPrefix("data:image/svg+xml;base64,") || after.hasPrefix("data:text/csv;base64,")))
        #expect(inline, "\(attribute) points outside the file")
        rest = rest[r.upperBound...]
      }
    }
    var images = 0
    var rest = Substring(html)
    while let r = rest.range(of: "data:image/png;base64,") {
      let encoded = rest[r.upperBound...].prefix { $0 != "'" && $0 != "\"" }
      let data = try #require(Data(base64Encoded: String(encoded)))
      #expect(try PNG.decodeAnimation(Array(data), path: "report image").frames.count >= 1)
      images += 1
      rest = rest[r.upperBound...]
    }
    #expect(images >= settings.count * 2, "a grid and a timeline per setting")
    for s in settings { #expect(html.contains("<tr><td>\(s)</td>")) }
    // PSNR, SSIM and the distance (privacy–utility only where a defense moves the accuracy).
    #expect(html.components(separatedBy: "<svg").count - 1 >= 3)
    #expect(html.contains("download='psnr.csv'") && html.contains("download='ssim.svg'"))
  }

  @Test("a sweep expands to its grid, in order")
  func grid() throws {
    let s = try TestScenario.file("defenses: [{clip: 5}]\nsweep: {gaussian_noise: [0, 0.1], local_batch: [1, 4]}")
    let points = try s.design(source: "t").points
    #expect(points.map(\.label) == [
      "gaussian_noise=0.0, local_batch=1", "gaussian_noise=0.0, local_batch=4",
      "gaussian_noise=0.1, local_batch=1", "gaussian_noise=0.1, local_batch=4",
    ])
    #expect(points[0].scenario.defenses == [Defense.clip(5)])
    #expect(points[3].scenario.defenses == [Defense.clip(5), Defense.gaussianNoise(0.1)])
    #expect(points[3].scenario.federation.localBatch == 4 && points[0].scenario.federation.localBatch == 1)
  }

  @Test("--resume keeps finished points and redoes the rest")
  func resume() async throws {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let scenario = try TestScenario.file(
      """
        name: sweep
        dataset: {path: shapes, count: 12}
        federation: {clients: 2, rounds: 1, deadline: 20}
        attack: {method: idlg, iterations: 5}
        sweep: {prune: [0, 0.5]}
        """)
    let folder = RunFolder(TemporaryPath.make("fedsim-sweep"))
    let plan = try RunPlan(design: scenario.design(source: "t"), file: scenario, folder: folder, binaries: binaries)
    let first = try await onThread { try plan.run() }
    #expect(first.map(\.setting) == ["prune=0.0", "prune=0.5"] && first.allSatisfy { $0.attacks == 1 })
    let kept = plan.pointFolder(0, repeat: 0).path + "/summary.json"
    let keptDate = try FileManager.default.attributesOfItem(atPath: kept)[.modificationDate] as? Date
    // Interrupted mid-point: the second point's summary never got written.
    try FileManager.default.removeItem(atPath: plan.pointFolder(1, repeat: 0).path + "/summary.json")
    let second = try await onThread { try RunPlan(resuming: folder, binaries: binaries).run() }
    #expect(second.map(\.setting) == first.map(\.setting) && second.allSatisfy { $0.attacks == 1 })
    #expect(try FileManager.default.attributesOfItem(atPath: kept)[.modificationDate] as? Date == keptDate)
    #expect(FileManager.default.fileExists(atPath: plan.pointFolder(1, repeat: 0).path + "/summary.json"))
    let csv = try String(contentsOfFile: folder.path + "/summary.csv", encoding: .utf8).split(separator: "\n")
    #expect(csv.count == 3 && csv[0].hasPrefix("setting,prune,repeats,attacks,mse_mean"))
    #expect(csv[2].hasPrefix("\"prune=0.5\",0.5,1,1,"), "the swept value as a number column: \(csv[2])")
    #expect(throws: FederationError.self) { try RunPlan(resuming: RunFolder(folder.path + "/nothing"), binaries: binaries) }
    try Self.checkSelfContainedReport(folder.path + "/report.html", settings: ["prune=0.0", "prune=0.5"])
    // A new run never reuses (or overwrites) a folder that holds one.
    #expect(throws: FederationError.self) {
      try RunPlan(design: scenario.design(source: "t"), file: scenario, folder: folder, binaries: binaries)
    }
  }
}

extension FederationTests {
  @Test("--jobs 2 runs points at once and gives what --jobs 1 gives")
  func jobsMatchSequential() async throws {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let scenario = try TestScenario.file(
      """
        name: jobs
        repeats: 2
        dataset: {path: shapes, count: 12}
        federation: {clients: 2, rounds: 1, deadline: 30}
        attack: {method: idlg, iterations: 8, victims: [0, 1]}
        sweep: {attack_method: [idlg, rgap]}
        """)
    var rows: [[String]] = []
    for jobs in [1, 2] {
      let folder = RunFolder(TemporaryPath.make("fedsim-jobs\(jobs)"))
      let plan = try RunPlan(design: scenario.design(source: "t"), file: scenario, folder: folder, binaries: binaries)
      let settings = try await onThread { try plan.run(jobs: jobs) }
      #expect(settings.map(\.setting) == ["attack_method=idlg", "attack_method=rgap"])
      var described: [String] = []
      for k in 0..<2 {
        for r in 0..<2 {
          let sub = plan.pointFolder(k, repeat: r)
          let summary = try sub.readJSON(RunSummary.self, from: sub.summary)
          #expect(summary.rows.count == 2 && summary.problems.isEmpty)
          described += summary.rows.map { "\(k).\(r) \($0.client) \($0.method) \($0.mse) \($0.psnr) \($0.labelAccuracy)" }
        }
      }
      rows.append(described)
      try? FileManager.default.removeItem(atPath: folder.path)
    }
    #expect(rows[0].count == 8 && rows[0] == rows[1], "--jobs 1: \(rows[0])\n--jobs 2: \(rows.last ?? [])")
  }

  @Test("attack.start rgap reaches the adversary: five iDLG steps from R-GAP's images recover the image")
  func rgapStartInFederation() async throws {
    // Five L-BFGS steps from a random start leave DLG's LeNet far from any image (below 20 dB);
    // from R-GAP's exact images they stay at the image.
    let plan = try Self.plan(
      """
        name: rgap-start
        dataset: {path: shapes, count: 12}
        federation: {clients: 1, rounds: 1, deadline: 30}
        attack: {method: idlg, iterations: 5, start: rgap}
        """, folder: "fedsim-rgap-start")
    _ = try await onThread { try plan.run(jobs: 1) }
    let sub = plan.pointFolder(0, repeat: 0)
    let summary = try sub.readJSON(RunSummary.self, from: sub.summary)
    #expect(summary.rows.count == 1 && summary.rows.allSatisfy { $0.psnr > 40 && $0.method == "idlg" }, "\(summary.rows.map(\.psnr))")
    // The adversary's log counts the objective's evaluations: five steps make at least five.
    let finished = Self.events(sub, "adversary").first { $0["event"] as? String == "attack_finished" }
    #expect((finished?["evaluations"] as? Int ?? 0) >= 5, "\(finished ?? [:])")
    try? FileManager.default.removeItem(atPath: plan.folder.path)
  }

  @Test("an attack that fails is a problem of its point, named, never a missing row")
  func failedAttackIsReported() async throws {
    // Clipping to norm 0 leaves a zero gradient, which R-GAP cannot invert.
    let plan = try Self.plan(
      """
        name: failing-attack
        dataset: {path: shapes, count: 12}
        federation: {clients: 2, rounds: 1, deadline: 30}
        attack: {method: rgap, victims: [0]}
        defenses: [{clip: 0}]
        """, folder: "fedsim-failed-attack")
    do {
      _ = try await onThread { try plan.run(jobs: 1) }
      Issue.record("a run whose only attack failed was reported as a success")
    } catch {
      #expect("\(error)".contains("the attack on round 1, client 0 failed: R-GAP"), "\(error)")
    }
    let sub = plan.pointFolder(0, repeat: 0)
    let summary = try sub.readJSON(RunSummary.self, from: sub.summary)
    #expect(summary.rows.isEmpty && summary.problems.contains { $0.contains("R-GAP") })
    try? FileManager.default.removeItem(atPath: plan.folder.path)
  }

  @Test("sixteen client processes complete ten FedAvg rounds with no update lost")
  func sixteenClients() async throws {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let scenario = try TestScenario.resolve(path: SharedData.repositoryRoot + "/scenarios/fedavg-16-clients.yaml")
    let folder = RunFolder(TemporaryPath.make("fedsim-16"))
    _ = try await onThread { try Launcher(scenario: scenario, folder: folder, binaries: binaries).run() }
    let rounds = Self.events(folder, "server").filter { $0["event"] as? String == "round_finished" }
    #expect(rounds.count == 10)
    #expect(rounds.allSatisfy { $0["updates"] as? Int == 16 && $0["missing"] as? Int == 0 })
    #expect(Self.events(folder, "server").allSatisfy { $0["event"] as? String != "dropped" })
    // It trains: one class of the 160 test shapes is at most 22 of them (13.8%).
    let accuracy = try #require(rounds.last?["test_accuracy"] as? Double)
    #expect(accuracy > 0.4, "test accuracy after ten rounds: \(accuracy)")
    // The split and the start, as an independent implementation needs them.
    let split = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.partition))) as? [String: Any]
    let test = try #require(split?["test"] as? [Int])
    let clients = try #require(split?["clients"] as? [[Int]])
    #expect(clients.count == 16 && test.count == 160)
    #expect(Set(test + clients.flatMap { $0 }) == Set(0..<800) && test.count + clients.map(\.count).reduce(0, +) == 800)
    let start = try SafetensorsFile(contentsOf: folder.initialModel)
    let model = try FederationSetup.initialModel(scenario)
    for p in model.namedParameters {
      #expect(try start.tensor("param." + p.name).scalars == p.tensor.scalars, "\(p.name)")
    }
  }
}

extension FederationTests {
  @Test("a client process killed mid-round: the round closes at its deadline with the quorum")
  func killedClient() async throws {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let folder = try Self.folder("""
      name: t
      dataset: {path: shapes, count: 40}
      federation: {clients: 2, rounds: 1, algorithm: fedavg, epochs: 30, local_batch: 4, deadline: 8, quorum: 1}
      """)
    let server = try FederatedServer(folder: folder)
    let serverDone = Background { try server.run() }
    let client0 = try await onThread { () -> Background<Void> in
      _ = try Self.waitForEndpoints(folder)
      let client0 = Background { try FederatedClient(folder: folder, id: 0).run() }
      let victim = Process()
      victim.executableURL = URL(fileURLWithPath: binaries + "/fed-client")
      victim.arguments = [folder.path, "1"]
      try victim.run()
      // Kill it once the round has started: it is then training locally on the model it got.
      let end = Date().addingTimeInterval(30)
      while Date() < end && !Self.events(folder, "server").contains(where: { $0["event"] as? String == "round_started" }) {
        Thread.sleep(forTimeInterval: 0.01)
      }
      kill(victim.processIdentifier, SIGKILL)
      victim.waitUntilExit()
      return client0
    }
    try await serverDone.value
    try await client0.value
    let log = Self.events(folder, "server")
    #expect(log.contains { $0["event"] as? String == "client_joined" && $0["client"] as? Int == 1 })
    let finished = log.first { $0["event"] as? String == "round_finished" }
    #expect(finished?["updates"] as? Int == 1 && finished?["missing"] as? Int == 1)
    #expect(log.last?["event"] as? String == "done")
  }
}

extension FederationTests {
  @Test("fedsim demo runs to completion with its output redirected to a file (plain progress lines)")
  func demoToAFile() async throws {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let dir = TemporaryPath.make("fedsim-demo")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let status = try await onThread { () -> Int32 in
      let p = Process()
      p.executableURL = URL(fileURLWithPath: binaries + "/fedsim")
      p.arguments = [
        "demo", "--iterations", "20", "--data", "shapes", "--index", "5", "--defense", "gaussian_noise=0.1", "--defense", "prune=0.9",
        "--out", dir + "/run",
      ]
      _ = FileManager.default.createFile(atPath: dir + "/out.txt", contents: nil)
      p.standardOutput = FileHandle(forWritingAtPath: dir + "/out.txt")
      try p.run()
      p.waitUntilExit()
      return p.terminationStatus
    }
    let text = try String(contentsOfFile: dir + "/out.txt", encoding: .utf8)
    #expect(status == 0, "\(text)")
    #expect(!text.contains("\u{1B}["), "escape codes in a file")
    #expect(text.components(separatedBy: "iteration 20/20").count - 1 >= 2)
    #expect(text.contains("no defense · DLG") && text.contains("gaussian_noise=0.1 · DLG") && text.contains("prune=0.9 · DLG"))
    #expect(text.contains("the client's private image: image 5 of shapes, label "), "\(text)")
    #expect(text.contains(" | no defense: ") && text.contains(" | prune=0.9: ") && text.contains("report.html"))
    #expect(FileManager.default.fileExists(atPath: dir + "/run/private-image.png"))
    for run in ["no-defense", "defended", "defended-2"] {
      #expect(FileManager.default.fileExists(atPath: dir + "/run/\(run)/report.html"))
      #expect(FileManager.default.fileExists(atPath: dir + "/run/\(run)/points/p0-r0/timelines/r1-c0.png"))
    }
  }
}
