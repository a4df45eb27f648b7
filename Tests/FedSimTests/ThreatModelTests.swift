import AdversaryRole
import FedClient
import FedData
import FedServer
import FedSimCore
import FedSimKit
import Foundation
import Tensors
import TestSupport
import Testing

@Suite("The house: threat model by construction, FedAvg attacked end to end", .serialized)
struct HouseTests {
  /// A folder whose scenario names a dataset file, copied in for the server and the clients.
  static func folderWithPrivateDataset() throws -> (RunFolder, String) {
    let folder = RunFolder(TemporaryPath.make("fedsim-threat"))
    try folder.create()
    let dataDir = TemporaryPath.make("fedsim-private")
    try FileManager.default.createDirectory(atPath: dataDir + "/a", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: dataDir + "/b", withIntermediateDirectories: true)
    let shapes = ImageDataset.shapes(count: 6, seed: 3)
    for i in 0..<6 {
      let png = Pictures.grid(rows: [shapes.images([i])], scale: 1)
      try Data(png).write(to: URL(fileURLWithPath: dataDir + "/\(i % 2 == 0 ? "a" : "b")/\(i).png"))
    }
    return (folder, dataDir)
  }

  @Test("the adversary attacks with no dataset reachable: its brief names none, and it reads no scenario")
  func adversaryWithoutDataset() async throws {
    let (folder, dataDir) = try Self.folderWithPrivateDataset()
    let scenario = try TestScenario.resolve("""
      name: t
      dataset: {path: '\(dataDir)', test_fraction: 0}
      federation: {clients: 2, rounds: 1, deadline: 15}
      attack: {method: idlg, iterations: 10, victims: [0]}
      """)
    try folder.writeJSON(scenario, to: folder.scenario)
    try CurveKeyring.make(in: folder, clients: 2)
    let brief = try #require(AdversaryBrief(scenario))
    try folder.writeJSON(brief, to: folder.brief)
    let briefText = try String(contentsOfFile: folder.brief, encoding: .utf8)
    #expect(!briefText.contains(dataDir) && !briefText.contains("path"))
    let server = try FederatedServer(folder: folder)
    let serverDone = Background { try server.run() }
    let (clients, adversary) = try await onThread { () -> ([Background<Void>], Background<Void>) in
      _ = try FederationTests.waitForEndpoints(folder)
      let clients = (0..<2).map { c in Background { try FederatedClient(folder: folder, id: c).run() } }
      // The clients have read their images; now the dataset and the scenario vanish.
      Thread.sleep(forTimeInterval: 1)
      try FileManager.default.removeItem(atPath: dataDir)
      try FileManager.default.removeItem(atPath: folder.scenario)
      return (clients, Background { try FederatedAdversary(folder: folder).run() })
    }
    try await serverDone.value
    for c in clients { try await c.value }
    try await adversary.value
    let r = try Reconstruction(contentsOf: folder.reconstruction(round: 1, client: 0))
    #expect(r.images.shape == [1, brief.model.channels, brief.model.imageSize, brief.model.imageSize] && r.method == .idlg)
  }

  @Test("FedAvg with an attack: clients keep the truth of attacked rounds, the update is attacked and scored")
  func fedAvgAttacked() async throws {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let scenario = try TestScenario.resolve("""
      name: fedavg-attacked
      dataset: {path: shapes, count: 8, test_fraction: 0.25}
      federation: {clients: 3, rounds: 2, algorithm: fedavg, epochs: 1, local_batch: 2, learning_rate: 0.1, deadline: 20}
      attack: {method: idlg, iterations: 30, rounds: [2], victims: [1]}
      """)
    let folder = RunFolder(TemporaryPath.make("fedsim-fedavg"))
    let summary = try await onThread { try Launcher(scenario: scenario, folder: folder, binaries: binaries).run() }
    let row = try #require(summary.rows.first)
    #expect(summary.rows.count == 1 && row.round == 2 && row.client == 1 && row.method == "idlg")
    // Client 1 trained on its two images: both are reconstructed and scored.
    let truth = try PrivateBatch(contentsOf: folder.truth(round: 2, client: 1))
    #expect(truth.images.shape[0] == 2 && truth.labels.count == 2)
    #expect(!FileManager.default.fileExists(atPath: folder.truth(round: 1, client: 1)), "round 1 is not attacked")
    #expect(!FileManager.default.fileExists(atPath: folder.truth(round: 2, client: 0)), "client 0 is not a victim")
    #expect(row.psnr.isFinite && row.labelAccuracy > 0)
    #expect(summary.rounds.count == 2 && summary.rounds.allSatisfy { $0.outcome == .aggregated && $0.accepted == [0, 1, 2] })
    #expect(summary.problems.isEmpty && summary.testAccuracy != nil)
  }
}
