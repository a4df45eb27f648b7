import FedSimCore
import Tensors

/// The model the brief names, as a template to read tapped weights and updates into.
public struct TapModel {
  struct Tapped {
    var model: AnyModel
    /// The shared gradient (FedAvg: the weight change read as one SGD step, −Δ / (η · steps)).
    var gradient: [Tensor]
    /// The images behind it: the batch in FedSGD, every image trained on in FedAvg.
    var batch: Int
  }

  let template: AnyModel
  let shapes: [(name: String, shape: [Int])]

  public init(_ spec: ModelSpec) throws(FederationError) {
    var generator = SeededGenerator(seed: 0)
    do { template = try ModelZoo.make(spec, generator: &generator) } catch {
      throw .model("cannot build \(spec.name): \(error)")
    }
    shapes = template.namedParameters.map { (name: $0.name, shape: $0.tensor.shape) }
  }

  /// The tapped model and update, checked against the template's names and shapes.
  func read(_ m: WireMessage, _ h: TapHeader) throws(WireError) -> Tapped {
    try m.validate(against: shapes, prefix: "param.")
    try m.validate(against: shapes, prefix: "grad.")
    let params = m.tensors.filter { $0.name.hasPrefix("param.") }.map(\.tensor)
    var gradient = m.tensors.filter { $0.name.hasPrefix("grad.") }.map(\.tensor)
    let batch: Int
    switch h.algorithm {
    case .fedsgd:
      batch = h.batch
    case .fedavg:
      let scale = Float(-1 / (h.learningRate * Double(h.steps)))
      gradient = gradient.map { $0 * scale }
      batch = h.examples
    }
    guard batch <= FederatedAdversary.largestBatch else {
      throw .malformed("an update over \(batch) images: more than the \(FederatedAdversary.largestBatch) an attack reconstructs")
    }
    return Tapped(model: template.withParameters(params), gradient: gradient, batch: batch)
  }
}
