import FedData
import Tensors

/// What the server and the clients derive the same way from the resolved scenario: the dataset,
/// the server's test images and each client's images. The adversary never builds one.
public struct FederationSetup: Sendable {
  public let scenario: Scenario
  public let dataset: ImageDataset
  public let testIndices: [Int]
  public let clientIndices: [[Int]]
  /// The images as the client holds them: resized (antialiased bilinear) and centre-cropped to
  /// the model's size when the data's differs, as torchvision's Resize and CenterCrop. What an
  /// attack is scored against.
  public let pixels: ImageTransform
  /// The images as the model takes them: `pixels`, then normalised when its input is.
  public let modelInput: ImageTransform

  public init(_ s: Scenario) throws(FederationError) {
    scenario = s
    let data: ImageDataset
    do { data = try s.data.source.load(seed: s.seed, size: s.model.imageSize) } catch { throw .dataset(error) }
    guard data.channels == s.model.channels, data.height == data.width else {
      throw .model("the dataset's images are \(data.channels)×\(data.height)×\(data.width) but the model takes \(s.model.channels)×\(s.model.imageSize)×\(s.model.imageSize)")
    }
    let size = s.model.imageSize
    pixels = data.height == size ? ImageTransform() : ImageTransform(resize: size, centerCrop: size)
    modelInput = ImageTransform(resize: pixels.resize, centerCrop: pixels.centerCrop, normalization: s.model.normalization)
    if let top = data.labels.max(), top >= s.model.classes {
      throw .model("the dataset has label \(top) but the model has \(s.model.classes) classes")
    }
    dataset = data
    var order = Array(0..<data.count)
    var generator = SeededGenerator(seed: s.seed &+ 1)
    order.shuffle(using: &generator)
    let testCount = s.data.testCount(of: data.count)
    testIndices = Array(order.prefix(testCount)).sorted()
    let train = Array(order.dropFirst(testCount)).sorted()
    let parts = s.data.partition.assign(
      labels: train.map { data.labels[$0] }, clients: s.federation.clients, seed: s.seed &+ 2)
    clientIndices = parts.map { $0.map { train[$0] } }
  }

  /// The initial global model.
  public func initialModel() throws(FederationError) -> AnyModel { try Self.initialModel(scenario) }

  /// The initial global model of `scenario` (seeded by it, the same in every process).
  public static func initialModel(_ scenario: Scenario) throws(FederationError) -> AnyModel {
    var generator = SeededGenerator(seed: scenario.seed)
    do { return try ModelZoo.make(scenario.model, generator: &generator) } catch {
      throw .model("cannot build \(scenario.model.name): \(error)")
    }
  }
}

extension DataPlan.Source {
  /// The images this source names (the shapes drawn with `seed`).
  /// The images, a picture already at `size` (other sources keep their own size).
  public func load(seed: UInt64, size: Int = 32) throws(DatasetError) -> ImageDataset {
    switch self {
    case .shapes(let count): return ImageDataset.shapes(count: count, seed: seed)
    case .picture(let path): return try ImageDataset.picture(path, size: size)
    case .files(let path, let limit):
      let data = try ImageDataset.load(path)
      guard let limit, limit < data.count else { return data }
      return data.subset(Array(0..<limit))
    }
  }
}
