import FedData
import Tensors

/// One client's shared update as a safetensors file: the model weights as `param.<state_dict
/// name>`, the shared gradient as `grad.<parameter name>`, and metadata `model`, `classes`,
/// `channels`, `size` (optionally `activation`, `activation_scope`, `batch` and `normalize`: imagenet, none or
/// MEAN,…/STD,…). It may also hold the private `input` (as the model saw it, normalised when the
/// model's input is) and `label_onehot`, used only to score an attack, never by it. Inception-v3's
/// auxiliary head is there when its weights are (`param.AuxLogits.*`).
public struct RecordedUpdate: Sendable {
  public var spec: ModelSpec
  public var model: AnyModel
  /// The shared gradient in the model's parameter order.
  public var gradient: [Tensor]
  /// The number of private examples behind the gradient.
  public var batch: Int
  /// The private images `[B, C, H, W]` as the model saw them, when recorded (for scoring only).
  public var input: Tensor?
  /// The model's input normalisation (nil: the model takes pixels in [0, 1]).
  public var normalization: Normalization? {
    get { spec.normalization }
    set { spec.normalization = newValue }
  }
  /// The private labels, when recorded (for scoring only).
  public var labels: [Int]?

  /// The shape of the private batch.
  public var inputShape: [Int] { [batch, spec.channels, spec.imageSize, spec.imageSize] }

  /// Images in the model's input space as pixels in [0, 1] (the normalisation undone).
  public func pixels(_ x: Tensor) -> Tensor { spec.pixels(x) }

  /// What a FedSGD client with `model` shares for `input` (as the model sees it: `spec.input`
  /// of the pixels) and `labels`.
  public init(spec: ModelSpec, model: AnyModel, input: Tensor, labels: [Int]) {
    self.spec = spec
    self.model = model
    self.input = input
    self.labels = labels
    batch = input.shape[0]
    gradient = sharedGradient(
      model: model, input: input, targets: oneHot(labels, classes: spec.classes))
  }

  /// Reads an update file, with errors that name the file and what is wrong in it. Every
  /// number in it is bounded (`ScenarioLimits`) and every tensor must be finite, so no file
  /// can exhaust memory, trap, or feed NaN to an attack or its scoring.
  /// `activationScope` overrides the file's `activation_scope` metadata.
  public init(contentsOf path: String, activationScope: ActivationScope? = nil) throws(UpdateFileError) {
    let file: SafetensorsFile
    do { file = try SafetensorsFile(contentsOf: path) } catch {
      throw .unreadable(path: path, reason: error.description)
    }
    let meta = UpdateMetadata(file: file, path: path)
    spec = try meta.spec()
    if let activationScope { spec.activationScope = activationScope }
    spec.normalization = try meta.normalization(channels: spec.channels)
    model = try Self.model(spec, file: file, path: path)
    let parameters = model.namedParameters
    gradient = try parameters.map { (name, p) throws(UpdateFileError) in
      try Self.tensor(file, "grad." + name, path: path, shape: p.shape)
    }
    try Self.checkNoStrayGradient(file, names: parameters.map(\.name), spec: spec, path: path)
    try Self.checkAuxiliaryGradient(gradient, names: parameters.map(\.name), path: path)
    let imageShape = [spec.channels, spec.imageSize, spec.imageSize]
    if file.tensors["input"] != nil {
      input = try Self.tensor(file, "input", path: path, shape: nil)
      if let x = input, x.rank != 4 || Array(x.shape.dropFirst()) != imageShape {
        throw .shape(path: path, name: "input", expected: [-1] + imageShape, found: x.shape)
      }
    }
    if let y = file.tensors["label_onehot"] {
      guard y.rank == 2, y.shape[1] == spec.classes else {
        throw .shape(path: path, name: "label_onehot", expected: [-1, spec.classes], found: y.shape)
      }
      labels = try Self.labels(Self.tensor(file, "label_onehot", path: path, shape: nil), path: path)
    }
    batch = try meta.batch(default: input?.shape[0] ?? labels?.count ?? 1, spec: spec)
    if let x = input, x.shape[0] != batch {
      throw .shape(path: path, name: "input", expected: [batch] + imageShape, found: x.shape)
    }
    if let l = labels, l.count != batch {
      throw .shape(path: path, name: "label_onehot", expected: [batch, spec.classes], found: [l.count, spec.classes])
    }
    do { try ModelZoo.check(spec, batch: batch) } catch {
      throw .badMetadata(path: path, key: "batch", value: "\(batch)", why: "\(error)")
    }
  }

  /// The zoo's model for `spec` with the file's finite weights (`param.*`).
  private static func model(_ spec: ModelSpec, file: SafetensorsFile, path: String) throws(UpdateFileError) -> AnyModel {
    var generator = SeededGenerator(seed: 0)
    var model: AnyModel
    do { model = try ModelZoo.make(spec, generator: &generator) } catch {
      throw .badMetadata(path: path, key: "model", value: spec.name, why: "\(error)")
    }
    var weights: [String: Tensor] = [:]
    for key in file.tensors.keys where key.hasPrefix("param.") {
      weights[String(key.dropFirst(6))] = try tensor(file, key, path: path, shape: nil)
    }
    do { try model.loadStateDict(weights) } catch { throw .weights(path: path, reason: "\(error)") }
    return model
  }

  /// Every `grad.*` tensor is the gradient of one of the model's parameters: one that is not was
  /// shared by another model (or Inception-v3 with its auxiliary head, whose weights the file
  /// lacks), and an attack that left it out would fit the wrong gradient without a word.
  private static func checkNoStrayGradient(
    _ file: SafetensorsFile, names: [String], spec: ModelSpec, path: String
  ) throws(UpdateFileError) {
    let expected = Set(names.map { "grad." + $0 })
    guard let stray = file.tensors.keys.filter({ $0.hasPrefix("grad.") && !expected.contains($0) }).min() else { return }
    let why = spec.auxiliaryHead == false && stray.hasPrefix("grad." + InceptionV3.auxiliaryPrefix)
      ? "it is a gradient of Inception-v3's auxiliary head, whose weights (param.AuxLogits.*) the file does not hold"
      : "the model '\(spec.name)' has no parameter of that name"
    throw .strayTensor(path: path, name: stray, why: why)
  }

  /// Inception-v3's auxiliary head, when there, takes no part in FedSim's loss (the main head's
  /// cross-entropy), so its share of the gradient is zero. A file whose head has a gradient was
  /// made with a loss that includes it (as torchvision's training recipe adds 0.4 of the head's):
  /// an attack would fit the wrong loss without a word.
  private static func checkAuxiliaryGradient(_ gradient: [Tensor], names: [String], path: String) throws(UpdateFileError) {
    for (name, g) in zip(names, gradient) where name.hasPrefix(InceptionV3.auxiliaryPrefix) {
      guard g.scalars.contains(where: { $0 != 0 }) else { continue }
      throw .auxiliaryLoss(path: path, name: "grad." + name)
    }
  }

  /// The labels of `label_onehot` [B × classes]: each row one 1 among 0s. A row that is not
  /// (all zeros, soft labels) has no one label to score against, and its argmax would score the
  /// attack against class 0 without a word.
  private static func labels(_ y: Tensor, path: String) throws(UpdateFileError) -> [Int] {
    let (classes, scalars) = (y.shape[1], y.scalars)  // `scalars` copies: once, not a row at a time
    return try (0..<y.shape[0]).map { (row: Int) throws(UpdateFileError) -> Int in
      let values = scalars[row * classes..<(row + 1) * classes]
      guard let hot = values.firstIndex(of: 1), values.lastIndex(of: 1) == hot, values.allSatisfy({ $0 == 0 || $0 == 1 })
      else { throw .notOneHot(path: path, row: row) }
      return hot - row * classes
    }
  }

  /// The tensor `name`, present, finite, and of `shape` when one is expected.
  private static func tensor(_ file: SafetensorsFile, _ name: String, path: String, shape: [Int]?) throws(UpdateFileError) -> Tensor {
    guard let t = file.tensors[name] else { throw .missingTensor(path: path, name: name) }
    if let shape, t.shape != shape { throw .shape(path: path, name: name, expected: shape, found: t.shape) }
    guard t.scalars.allSatisfy({ $0.isFinite }) else { throw .nonFinite(path: path, name: name) }
    return t
  }

  /// Writes the update file (with the private batch when `includingPrivateData`).
  public func write(to path: String, includingPrivateData: Bool = true) throws {
    var tensors: [String: Tensor] = [:]
    for (name, t) in model.stateDict { tensors["param." + name] = t }
    for ((name, _), g) in zip(model.namedParameters, gradient) { tensors["grad." + name] = g }
    if includingPrivateData, let input, let labels {
      tensors["input"] = input
      tensors["label_onehot"] = oneHot(labels, classes: spec.classes)
    }
    var metadata = [
      "model": spec.name, "classes": "\(spec.classes)", "channels": "\(spec.channels)",
      "size": "\(spec.imageSize)", "activation": spec.activation.rawValue, "batch": "\(batch)",
      "normalize": normalization?.text ?? "none",
    ]
    if let scope = spec.activationScope { metadata["activation_scope"] = scope.rawValue }
    try SafetensorsFile(tensors: tensors, metadata: metadata).write(to: path)
  }
}

/// Why an update file cannot be attacked, naming the file.
public enum UpdateFileError: Error, Equatable, CustomStringConvertible {
  case unreadable(path: String, reason: String)
  case missingMetadata(path: String, key: String)
  /// `value`: the file's value (quoted short and printable in the message); `why`: why it does
  /// not do, when the value alone does not say.
  case badMetadata(path: String, key: String, value: String, why: String? = nil)
  case weights(path: String, reason: String)
  case missingTensor(path: String, name: String)
  case shape(path: String, name: String, expected: [Int], found: [Int])
  case nonFinite(path: String, name: String)
  /// A tensor the file should not hold (`why`: whose it looks to be).
  case strayTensor(path: String, name: String, why: String)
  /// A gradient of Inception-v3's auxiliary head that is not zero (`name`, the first).
  case auxiliaryLoss(path: String, name: String)
  /// Row `row` of `label_onehot` is not one 1 among 0s.
  case notOneHot(path: String, row: Int)

  public var description: String {
    func q(_ text: String) -> String { UntrustedText.quoted(text) }
    return switch self {
    case .unreadable(let p, let r): r.contains(p) ? r : "\(p): \(r)"
    case .missingMetadata(let p, let k): "\(p): metadata has no '\(k)'"
    case .badMetadata(let p, let k, let v, let why):
      "\(p): metadata '\(q(k))' is '\(q(v))\(why.map { " (\($0))" } ?? "")', which is not usable"
    case .weights(let p, let r): "\(p): model weights (param.*) do not fit the model: \(r)"
    case .missingTensor(let p, let n): "\(p): no tensor '\(q(n))'"
    case .shape(let p, let n, let e, let f): "\(p): tensor '\(q(n))' has shape \(f), expected \(e)"
    case .nonFinite(let p, let n): "\(p): tensor '\(q(n))' holds NaN or infinity"
    case .strayTensor(let p, let n, let why): "\(p): tensor '\(q(n))' does not belong: \(why)"
    case .auxiliaryLoss(let p, let n):
      "\(p): tensor '\(q(n))' is not zero: the loss behind this update included Inception-v3's auxiliary head, and "
        + "FedSim's loss is the main head's alone, so an attack would fit another loss. Record the update without the "
        + "head (aux_logits=False) or with a loss of the main logits only"
    case .notOneHot(let p, let row): "\(p): row \(row) of tensor 'label_onehot' is not one 1 among 0s"
    }
  }
}

/// An update file's metadata, each number parsed and bounded.
struct UpdateMetadata {
  let file: SafetensorsFile
  let path: String

  func integer(_ key: String, _ range: ClosedRange<Int>) throws(UpdateFileError) -> Int {
    guard let text = file.metadata[key] else { throw .missingMetadata(path: path, key: key) }
    guard let v = Int(text), range.contains(v) else {
      throw .badMetadata(path: path, key: key, value: text, why: "must be \(range.lowerBound) to \(range.upperBound)")
    }
    return v
  }

  func spec() throws(UpdateFileError) -> ModelSpec {
    guard let name = file.metadata["model"] else { throw .missingMetadata(path: path, key: "model") }
    var activation: Activation?
    if let a = file.metadata["activation"] {
      guard let parsed = Activation(rawValue: a) else { throw .badMetadata(path: path, key: "activation", value: a) }
      activation = parsed
    }
    var scope: ActivationScope?
    if let text = file.metadata["activation_scope"] {
      guard let parsed = ActivationScope(rawValue: text) else { throw .badMetadata(path: path, key: "activation_scope", value: text) }
      scope = parsed
    }
    // Inception-v3 with or without its auxiliary head: whichever the weights are for.
    let auxiliary = name == "inception_v3" ? file.tensors.keys.contains { $0.hasPrefix("param." + InceptionV3.auxiliaryPrefix) } : nil
    return ModelSpec(
      name: name, channels: try integer("channels", 1...4), imageSize: try integer("size", 4...ScenarioLimits.imageSize),
      classes: try integer("classes", 2...ScenarioLimits.classes), activation: activation, auxiliaryHead: auxiliary,
      activationScope: scope)
  }

  /// The `normalize` metadata (absent: none).
  func normalization(channels: Int) throws(UpdateFileError) -> Normalization? {
    guard let text = file.metadata["normalize"] else { return nil }
    do { return try Normalization.parse(text, channels: channels) } catch {
      throw .badMetadata(path: path, key: "normalize", value: text, why: "\(error)")
    }
  }

  /// The batch the metadata declares (else `fallback`), bounded so that the attack's dummy batch
  /// fits in memory.
  func batch(default fallback: Int, spec s: ModelSpec) throws(UpdateFileError) -> Int {
    let b = file.metadata["batch"] == nil ? fallback : try integer("batch", 1...ScenarioLimits.localBatch)
    guard (1...ScenarioLimits.localBatch).contains(b), b * s.channels * s.imageSize * s.imageSize <= ScenarioLimits.batchElements else {
      throw .badMetadata(path: path, key: "batch", value: "\(b) images of \(s.channels)×\(s.imageSize)×\(s.imageSize) (more than \(ScenarioLimits.batchElements) values)")
    }
    return b
  }
}
