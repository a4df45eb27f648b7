import Tensors

/// The private batch behind one client's update in one round, as the client keeps it in the run
/// folder (`truth/r<round>-c<client>.safetensors`) for the launcher to score against. Only the
/// client writes it and only the launcher reads it; it never crosses the wire.
public struct PrivateBatch: Sendable {
  /// `[B, C, H, W]` in [0, 1].
  public var images: Tensor
  public var labels: [Int]

  public init(images: Tensor, labels: [Int]) {
    precondition(images.rank == 4 && images.shape[0] == labels.count, "one label per image")
    (self.images, self.labels) = (images, labels)
  }

  public func write(to path: String) throws(RunFileError) {
    let file = SafetensorsFile(
      tensors: ["images": images, "labels": Tensor(shape: [labels.count], scalars: labels.map(Float.init))],
      metadata: ["format": "fedsim-private-batch"])
    do { try file.write(to: path) } catch { throw .unwritable(path: path, reason: "\(error)") }
  }

  public init(contentsOf path: String) throws(RunFileError) {
    let file: SafetensorsFile
    do { file = try SafetensorsFile(contentsOf: path) } catch { throw .unreadable(path: path, reason: error.description) }
    guard let x = file.tensors["images"], x.rank == 4, let y = file.tensors["labels"], y.rank == 1,
      y.shape[0] == x.shape[0]
    else { throw .unreadable(path: path, reason: "needs images [B, C, H, W] and labels [B]") }
    guard x.scalars.allSatisfy({ $0.isFinite }) else { throw .unreadable(path: path, reason: "images hold NaN or infinity") }
    let labels = y.scalars.map { $0.isFinite && $0 >= 0 && $0 < 1e9 ? Int($0) : -1 }
    guard !labels.contains(-1) else { throw .unreadable(path: path, reason: "labels must be class indices") }
    (images, self.labels) = (x, labels)
  }
}

extension PrivateBatch {
  /// The private batches behind a reconstruction, in its clients' order, as one batch: what it
  /// is scored against (`folder`: the point's run folder).
  public init(behind r: Reconstruction, in folder: RunFolder) throws(RunFileError) {
    let batches = try r.clients.map { c throws(RunFileError) in try PrivateBatch(contentsOf: folder.truth(round: r.round, client: c)) }
    for (c, b) in zip(r.clients, batches) where b.images.shape.dropFirst() != batches[0].images.shape.dropFirst() {
      throw .unreadable(
        path: folder.truth(round: r.round, client: c),
        reason: "holds \(b.images.shape) images, client \(r.clients[0])'s are \(batches[0].images.shape)")
    }
    self.init(images: concat(batches.map(\.images), alongAxis: 0), labels: batches.flatMap(\.labels))
  }
}

public enum RunFileError: Error, CustomStringConvertible, Equatable {
  case unreadable(path: String, reason: String)
  case unwritable(path: String, reason: String)

  /// Names the file once: a reason from the file's reader (a safetensors error) names it itself.
  public var description: String {
    switch self {
    case .unreadable(let p, let r): r.hasPrefix(p + ":") ? r : "\(p): \(r)"
    case .unwritable(let p, let r): r.hasPrefix(p + ":") ? r : "cannot write \(p): \(r)"
    }
  }
}
