import FedSimCore
import Foundation
import Tensors

/// Times one update of `parameters` float32 values (ResNet-18: 11,689,512, 44.6 MiB) going
/// client → server → adversary over loopback TCP as the federation moves it: the client encodes
/// and sends; the server receives, decodes and validates, and publishes the tap message (the
/// model and the update); the adversary receives and decodes it.
public enum TransferBenchmark {
  public struct Result: Sendable, Codable {
    public var benchmark = "update_transfer"
    public var parameters: Int
    public var megabytes: Double
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
      case benchmark, parameters, megabytes, seconds
    }
  }

  public static func run(parameters: Int = 11_689_512) throws -> Result {
    let context = try ZMQContext()
    let router = try ZMQSocket(context, .router, maximumMessageBytes: 512 << 20)
    let tap = try ZMQSocket(context, .xpub)
    let clientEndpoint = try router.bind("tcp://127.0.0.1:*")
    let tapEndpoint = try tap.bind("tcp://127.0.0.1:*")
    let client = try ZMQSocket(context, .dealer)
    try client.connect(clientEndpoint)
    let adversary = try ZMQSocket(context, .sub, maximumMessageBytes: 1 << 30)
    try adversary.connect(tapEndpoint)
    guard try tap.receive(timeout: 10) != nil else { throw ZMQError(operation: "benchmark", reason: "no subscription") }

    var generator = SeededGenerator(seed: 5)
    let model = Tensor.uniform([parameters], using: &generator)
    let update = Tensor.normal([parameters], using: &generator)
    let start = DispatchTime.now().uptimeNanoseconds
    let header = UpdateHeader(run: "bench", round: 1, client: 0, examples: 1, batch: 1, steps: 1)
    try client.send(WireMessage(.update(header), tensors: [(name: "w", tensor: update)]).frames())
    guard let frames = try router.receive(timeout: 30) else { throw ZMQError(operation: "benchmark", reason: "the update never came") }
    let received = try WireMessage(frames: Array(frames.dropFirst()))
    try received.validate(against: [(name: "w", shape: [parameters])])
    let tapHeader = TapHeader(
      run: "bench", round: 1, client: 0, clients: [0], algorithm: .fedsgd, learningRate: 0.1, examples: 1, batch: 1, steps: 1)
    let view = WireMessage(
      .tap(tapHeader),
      tensors: [(name: "param.w", tensor: model), (name: "grad.w", tensor: received.tensors[0].tensor)])
    try tap.send(view.frames())
    guard let tapped = try adversary.receive(timeout: 30) else { throw ZMQError(operation: "benchmark", reason: "the tap never came") }
    let seen = try WireMessage(frames: tapped)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    precondition(seen.tensors[1].tensor.scalars == update.scalars, "the update changed on the way")
    return Result(parameters: parameters, megabytes: Double(parameters * 4) / 1e6, seconds: seconds)
  }
}
