import Tensors

/// Local training of a model on part of a dataset, and its test accuracy: what a client does
/// between rounds, and how the cost of a defense is measured.
public struct LocalTraining: Sendable {
  public var batchSize: Int
  public var transform: ImageTransform
  /// The fewest images a batch may hold (`ModelZoo.smallestBatch`): a last batch with fewer
  /// joins the one before it.
  public var smallestBatch: Int

  public init(batchSize: Int = 64, transform: ImageTransform = ImageTransform(), smallestBatch: Int = 1) {
    precondition(batchSize > 0 && smallestBatch > 0, "batch sizes must be positive")
    self.batchSize = batchSize
    self.transform = transform
    self.smallestBatch = smallestBatch
  }

  /// The batches of one pass over `count` images, in order: `batchSize` each, the last the rest,
  /// unless the rest is fewer than `smallestBatch`, which then join the batch before (all
  /// `count` in one batch where there is no batch before).
  public func batches(_ count: Int) -> [Range<Int>] {
    var starts = Array(stride(from: 0, to: count, by: batchSize))
    if starts.count > 1, count - starts[starts.count - 1] < smallestBatch { starts.removeLast() }
    return starts.indices.map { i in starts[i]..<(i + 1 < starts.count ? starts[i + 1] : count) }
  }

  /// One pass over `indices` in an order shuffled by `generator`, one optimizer step per batch
  /// (`batches`). Returns the mean training loss.
  @discardableResult
  public func epoch<Model: Layer, Optimizer: GradientOptimizer>(
    _ model: inout Model, on data: ImageDataset, indices: [Int], optimizer: inout Optimizer,
    generator: inout SeededGenerator
  ) -> Double {
    var order = indices
    order.shuffle(using: &generator)
    var total = 0.0
    for range in batches(order.count) {
      let batch = Array(order[range])
      total += Double(step(&model, on: data, batch: batch, optimizer: &optimizer)) * Double(batch.count)
    }
    return total / Double(max(order.count, 1))
  }

  /// One optimizer step on one batch; returns the batch loss.
  @discardableResult
  public func step<Model: Layer, Optimizer: GradientOptimizer>(
    _ model: inout Model, on data: ImageDataset, batch: [Int], optimizer: inout Optimizer
  ) -> Float {
    step(&model, images: data.images(batch, transform: transform), labels: data.labels(batch), optimizer: &optimizer)
  }

  /// One optimizer step on a batch of images already in tensor form; returns the batch loss.
  @discardableResult
  public func step<Model: Layer, Optimizer: GradientOptimizer>(
    _ model: inout Model, images: Tensor, labels: [Int], optimizer: inout Optimizer
  ) -> Float {
    let m = model.requiringGradients()
    let params = m.parameters
    let loss = withForwardMode(.training) { crossEntropy(logits: m(images), labels: labels) }
    let grads = gradients(of: loss, wrt: params)
    var flat = params.flattenedScalars
    optimizer.step(&flat, gradient: grads.flattenedScalars)
    model = model.withParameters(params.unflattening(flat))
    return loss.scalar
  }

  /// The fraction of `indices` whose most likely class is their label.
  public func accuracy<Model: Layer>(_ model: Model, on data: ImageDataset, indices: [Int]) -> Double {
    guard !indices.isEmpty else { return 0 }
    var correct = 0
    var start = 0
    withoutGradients {
      withForwardMode(.inference) {
      while start < indices.count {
        let batch = Array(indices[start..<min(start + batchSize * 4, indices.count)])
        let predicted = model(data.images(batch, transform: transform)).argmax(alongAxis: 1).scalars
        correct += zip(predicted, data.labels(batch)).filter { Int($0) == $1 }.count
        start += batchSize * 4
      }
      }
    }
    return Double(correct) / Double(indices.count)
  }
}
