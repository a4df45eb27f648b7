import FedData
import FedSimCore
import FedSimKit
import FedServer
import FedClient
import AdversaryRole
import Tensors
import TestSupport
import Testing

@Suite("Local training")
struct TrainingTests {
  @Test(
    "LeNet with ReLU learns MNIST: first 8,000 test images to train, last 2,000 to test, ≥ 95%",
    .enabled(if: SharedData.dataTestsEnabled, "../shared/data not found"))
  func mnist() throws {
    let data = try ImageDataset.load(SharedData.dataDirectory + "/mnist")
    var gen = SeededGenerator(seed: 0)
    var model = LeNet(
      channels: 1, classes: 10, imageSize: 28, activation: .relu, initializer: .pytorchDefault, generator: &gen)
    var sgd = SGD(learningRate: 0.05, momentum: 0.9)
    let training = LocalTraining(batchSize: 64)
    let before = training.accuracy(model, on: data, indices: Array(8000..<10_000))
    var losses: [Double] = []
    for _ in 0..<3 {
      losses.append(training.epoch(&model, on: data, indices: Array(0..<8000), optimizer: &sgd, generator: &gen))
    }
    let after = training.accuracy(model, on: data, indices: Array(8000..<10_000))
    #expect(before < 0.3, "an untrained model is near chance: \(before)")
    #expect(losses[2] < losses[0], "loss falls: \(losses)")
    print("MNIST accuracy before \(before) after \(after), losses \(losses)")
    #expect(after >= 0.95, "test accuracy \(after)")
  }
}
