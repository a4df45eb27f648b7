import FedData
import FedSimCore
import Tensors

/// What one client computes from the global model in one round.
struct LocalUpdate {
  struct Result {
    /// FedSGD: the gradient of one batch; FedAvg: the weight change after local training.
    var update: [Tensor]
    /// The examples behind it (its weight in aggregation).
    var examples: Int
    var batch: Int
    var steps: Int
    /// The private images the update came from.
    var privateBatch: PrivateBatch
  }

  let setup: FederationSetup
  let client: Int

  func compute(_ model: AnyModel, round: Int) -> Result {
    let s = setup.scenario
    let mine = setup.clientIndices[client]
    var generator = SeededGenerator(seed: s.seed &+ UInt64(round * 7919 + client))
    switch s.federation.algorithm {
    case .fedsgd: return fedSGD(model, mine, &generator)
    case .fedavg: return fedAvg(model, mine, &generator)
    }
  }

  private func fedSGD(_ model: AnyModel, _ mine: [Int], _ generator: inout SeededGenerator) -> Result {
    var order = mine
    order.shuffle(using: &generator)
    let batch = Array(order.prefix(setup.scenario.federation.localBatch))
    let pixels = setup.dataset.images(batch, transform: setup.pixels)
    let images = setup.scenario.model.input(pixels)
    let labels = setup.dataset.labels(batch)
    let gradient: [Tensor]
    if let dp = setup.scenario.privacy.dpSGD {
      gradient = dp.gradient(model, images: images, labels: labels, classes: setup.scenario.model.classes, generator: &generator)
    } else {
      gradient = sharedGradient(model: model, input: images, targets: oneHot(labels, classes: setup.scenario.model.classes))
    }
    return Result(
      update: gradient, examples: batch.count, batch: batch.count, steps: 1,
      privateBatch: PrivateBatch(images: pixels, labels: labels))
  }

  private func fedAvg(_ model: AnyModel, _ mine: [Int], _ generator: inout SeededGenerator) -> Result {
    let f = setup.scenario.federation
    let batch = Swift.min(f.localBatch, mine.count)
    var local = model
    var optimizer = SGD(learningRate: Float(f.learningRate))
    let training = LocalTraining(
      batchSize: batch, transform: setup.modelInput, smallestBatch: ModelZoo.smallestBatch(setup.scenario.model))
    for _ in 0..<f.epochs {
      if let dp = setup.scenario.privacy.dpSGD {
        dpEpoch(&local, dp, mine, &generator)
      } else {
        training.epoch(&local, on: setup.dataset, indices: mine, optimizer: &optimizer, generator: &generator)
      }
    }
    let steps = f.epochs * training.batches(mine.count).count
    return Result(
      update: zip(local.parameters, model.parameters).map { $0 - $1 }, examples: mine.count, batch: batch,
      steps: steps,
      privateBatch: PrivateBatch(images: setup.dataset.images(mine, transform: setup.pixels), labels: setup.dataset.labels(mine)))
  }

  private func dpEpoch(_ local: inout AnyModel, _ dp: DPSGDSettings, _ mine: [Int], _ generator: inout SeededGenerator) {
    let f = setup.scenario.federation
    var order = mine
    order.shuffle(using: &generator)
    for start in stride(from: 0, to: order.count, by: f.localBatch) {
      let batch = Array(order[start..<Swift.min(start + f.localBatch, order.count)])
      let g = dp.gradient(
        local, images: setup.dataset.images(batch, transform: setup.modelInput), labels: setup.dataset.labels(batch),
        classes: setup.scenario.model.classes, generator: &generator)
      local = local.withParameters(zip(local.parameters, g).map { $0 - $1 * Float(f.learningRate) })
    }
  }
}
