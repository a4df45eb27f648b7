import Tensors

/// What the adversary made of one tapped update (`reconstructions/r<round>-c<client>.safetensors`):
/// the images and labels it reconstructed, its objective per iteration, snapshots along the way,
/// and how it ran. The launcher reads each once to score it and draw its pictures.
public struct Reconstruction: Sendable {
  public var round: Int
  /// The attacked client, or −1 for a secure aggregate.
  public var client: Int
  /// The clients whose private batches are behind the update, in order.
  public var clients: [Int]
  public var method: AttackKind
  /// `[B, C, H, W]`.
  public var images: Tensor
  public var labels: [Int]
  /// The kept start's objective per iteration.
  public var history: [Double]
  /// Snapshots of the kept start, `[K, B, C, H, W]`.
  public var snapshots: Tensor
  /// The iteration of each snapshot (empty: not recorded, in files from before they were).
  public var snapshotIterations: [Int]
  /// The snapshots one by one, each a batch `[B, C, H, W]`.
  public var frames: [Tensor] { (0..<snapshots.shape[0]).map { snapshots.sliced(alongAxis: 0, $0..<($0 + 1)).reshaped(to: images.shape) } }
  public var iterations: Int
  public var evaluations: Int
  public var wallSeconds: Double
  public var distance: Double

  public init(
    round: Int, client: Int, clients: [Int], method: AttackKind, images: Tensor, labels: [Int], history: [Double],
    snapshots: Tensor, snapshotIterations: [Int] = [], iterations: Int, evaluations: Int, wallSeconds: Double, distance: Double
  ) {
    (self.round, self.client, self.clients, self.method, self.images, self.labels) = (round, client, clients, method, images, labels)
    (self.history, self.snapshots, self.iterations, self.evaluations) = (history, snapshots, iterations, evaluations)
    self.snapshotIterations = snapshotIterations
    (self.wallSeconds, self.distance) = (wallSeconds, distance)
  }

  public func write(to path: String) throws(RunFileError) {
    let file = SafetensorsFile(
      tensors: [
        "reconstruction": images, "labels": Tensor(shape: [labels.count], scalars: labels.map(Float.init)),
        "history": Tensor(shape: [history.count], scalars: history.map { Float($0) }), "snapshots": snapshots,
      ],
      metadata: [
        "method": method.rawValue, "iterations": "\(iterations)", "evaluations": "\(evaluations)",
        "wall_s": "\(wallSeconds)", "distance": "\(distance)", "round": "\(round)", "client": "\(client)",
        "clients": clients.map(String.init).joined(separator: ","),
        "snapshot_iterations": snapshotIterations.map(String.init).joined(separator: ","),
      ])
    do { try file.write(to: path) } catch { throw .unwritable(path: path, reason: "\(error)") }
  }

  public init(contentsOf path: String) throws(RunFileError) {
    func bad(_ why: String) -> RunFileError { .unreadable(path: path, reason: why) }
    let file: SafetensorsFile
    do { file = try SafetensorsFile(contentsOf: path) } catch { throw bad(error.description) }
    let m = file.metadata
    guard let x = file.tensors["reconstruction"], x.rank == 4, let y = file.tensors["labels"], y.shape == [x.shape[0]],
      let h = file.tensors["history"], let snaps = file.tensors["snapshots"],
      let method = m["method"].flatMap(AttackKind.init(rawValue:)),
      let round = m["round"].flatMap({ Int($0) }), let client = m["client"].flatMap({ Int($0) }),
      let clients = m["clients"].map({ $0.split(separator: ",").compactMap { Int($0) } }), !clients.isEmpty
    else { throw bad("not a reconstruction file (needs reconstruction, labels, history, snapshots, method, round, client, clients)") }
    guard snaps.rank == 5, Array(snaps.shape.dropFirst()) == x.shape else { throw bad("snapshots \(snaps.shape) do not match the reconstruction \(x.shape)") }
    guard x.scalars.allSatisfy(\.isFinite) else { throw bad("the reconstruction holds NaN or infinity") }
    let marks = (m["snapshot_iterations"] ?? "").split(separator: ",").compactMap { Int($0) }
    self.init(
      round: round, client: client, clients: clients, method: method, images: x,
      labels: y.scalars.map { $0.isFinite ? Int($0) : -1 }, history: h.scalars.map(Double.init), snapshots: snaps,
      snapshotIterations: marks.count == snaps.shape[0] ? marks : [],
      iterations: m["iterations"].flatMap { Int($0) } ?? 0, evaluations: m["evaluations"].flatMap { Int($0) } ?? 0,
      wallSeconds: m["wall_s"].flatMap { Double($0) } ?? 0, distance: m["distance"].flatMap { Double($0) } ?? .nan)
  }
}
