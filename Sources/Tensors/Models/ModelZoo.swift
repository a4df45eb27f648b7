/// A model of the zoo behind one type, so code can hold whichever the user named.
public struct AnyModel: Layer {
  public var base: any Layer
  public init(_ base: any Layer) { self.base = base }
  public func callAsFunction(_ x: Tensor) -> Tensor { base(x) }
  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    try base.visit(prefix: prefix, body)
  }
}

/// Where a zoo model's activation goes. `all`: every activation (FedSim's meaning of "sigmoid
/// ResNet"). `modules`: as a torchvision model whose `nn.ReLU` modules were swapped for it, the
/// way the DLG study's scripts and `make_bigmodel_update.py` swap: torchvision's functional ReLUs
/// stay ReLU (DenseNet-121's last one, after `norm5`, and every one of Inception-v3's, whose
/// `BasicConv2d` calls `F.relu`). ResNet-18 has ReLU modules only: both scopes agree.
public enum ActivationScope: String, Sendable, Codable, CaseIterable {
  case all, modules
}

/// What to build: a zoo model by name with its options.
public struct ModelSpec: Sendable, Codable, Equatable {
  public var name: String
  public var channels: Int
  public var imageSize: Int
  public var classes: Int
  public var activation: Activation
  public var initializer: Initializer
  /// ResNet-18's stem (imagenet or cifar).
  public var stem: ResNet18.Stem?
  /// Inception-v3's auxiliary head.
  public var auxiliaryHead: Bool?
  /// The MLP's hidden widths.
  public var hidden: [Int]?
  /// Where the activation goes (nil: everywhere).
  public var activationScope: ActivationScope?
  /// How the model's input is normalised (nil: it takes pixels in [0, 1]).
  public var normalization: Normalization?

  public init(
    name: String, channels: Int = 3, imageSize: Int = 32, classes: Int = 10, activation: Activation? = nil,
    initializer: Initializer? = nil, stem: ResNet18.Stem? = nil, auxiliaryHead: Bool? = nil, hidden: [Int]? = nil,
    activationScope: ActivationScope? = nil, normalization: Normalization? = nil
  ) {
    let entry = ModelZoo.entries.first { $0.name == name }
    self.name = name
    self.channels = channels
    self.imageSize = imageSize
    self.classes = classes
    self.activation = activation ?? entry?.defaultActivation ?? .relu
    self.initializer = initializer ?? Self.defaultInitializer(name: name, activation: self.activation)
    self.stem = stem
    self.auxiliaryHead = auxiliaryHead
    self.hidden = hidden
    self.activationScope = activationScope
    self.normalization = normalization
  }

  /// ResNet-18's stem: the one asked for, else the CIFAR stem for images of 64 pixels and less.
  public var resNetStem: ResNet18.Stem { stem ?? (imageSize <= 64 ? .cifar : .imagenet) }

  /// Images as the model takes them: normalised when its input is.
  public func input(_ pixels: Tensor) -> Tensor { normalization?.apply(pixels) ?? pixels }
  /// The model's input as pixels in [0, 1] (the normalisation undone).
  public func pixels(_ input: Tensor) -> Tensor { normalization?.undo(input) ?? input }
  /// Where the model's input lies for pixels in [0, 1]: the range a boxed attack keeps to.
  public var inputRange: ClosedRange<Float> { normalization?.inputRange ?? 0...1 }
}

extension ModelSpec {
  /// DLG's uniform weights for its own setting, the sigmoid (or tanh) LeNet; PyTorch's defaults
  /// otherwise. Uniform(−0.5, 0.5) weights under ReLU blow the first training step up and leave
  /// every unit dead: a FedAvg run then predicts one class from round 2 on.
  public static func defaultInitializer(name: String, activation: Activation) -> Initializer {
    name == "lenet" && (activation == .sigmoid || activation == .tanh) ? .dlgUniform : .pytorchDefault
  }
}

/// Why a model cannot be built as asked.
public enum ModelError: Error, Equatable, CustomStringConvertible {
  case unknownModel(String)
  case unsupported(String, reason: String)

  public var description: String {
    switch self {
    case .unknownModel(let n): "unknown model '\(UntrustedText.quoted(n))' (the zoo has \(ModelZoo.entries.map(\.name).joined(separator: ", ")))"
    case .unsupported(let n, let r): "model '\(n)': \(r)"
    }
  }
}

/// The models FedSim builds by name.
public enum ModelZoo {
  public struct Entry: Sendable {
    public var name: String
    public var summary: String
    public var defaultActivation: Activation
    public var defaultImageSize: Int
    public var options: String
  }

  public static let entries = [
    Entry(name: "lenet", summary: "DLG's LeNet: three 5×5 convs of 12 channels, one linear layer", defaultActivation: .sigmoid, defaultImageSize: 32, options: "any square size"),
    Entry(name: "cnn6", summary: "R-GAP's six-conv network (also in WDLG)", defaultActivation: .leakyRelu, defaultImageSize: 32, options: "any square size ≥ 8"),
    Entry(name: "fedavg_cnn", summary: "FedAvg's CNN (McMahan et al. 2017): two 5×5 convs with 2×2 max pooling, 512 units", defaultActivation: .relu, defaultImageSize: 28, options: "any square size ≥ 4"),
    Entry(name: "mlp", summary: "multilayer perceptron on flattened images", defaultActivation: .sigmoid, defaultImageSize: 28, options: "hidden widths (default 256)"),
    Entry(name: "resnet18", summary: "ResNet-18 (torchvision names)", defaultActivation: .relu, defaultImageSize: 224, options: "stem: imagenet (224) or cifar (32)"),
    Entry(name: "densenet121", summary: "DenseNet-121 (torchvision names)", defaultActivation: .relu, defaultImageSize: 224, options: "any size ≥ 32"),
    Entry(name: "inception_v3", summary: "Inception-v3 (torchvision names)", defaultActivation: .relu, defaultImageSize: 299, options: "size 299 (≥ 75); auxiliary head on/off"),
  ]

  /// Whether the zoo builds `spec` (its name and the input sizes the model takes), without
  /// building it.
  public static func check(_ spec: ModelSpec) throws(ModelError) {
    let s = spec.imageSize
    switch spec.name {
    case "cnn6" where s < 8: throw .unsupported("cnn6", reason: "images must be at least 8×8")
    case "fedavg_cnn" where s < 4: throw .unsupported("fedavg_cnn", reason: "images must be at least 4×4")
    case "densenet121" where s < 32: throw .unsupported("densenet121", reason: "images must be at least 32×32")
    case "inception_v3" where s < 75: throw .unsupported("inception_v3", reason: "images must be at least 75×75 (299 is usual)")
    case _ where !entries.contains(where: { $0.name == spec.name }): throw .unknownModel(spec.name)
    default: break
    }
    if spec.auxiliaryHead != nil, spec.name != "inception_v3" {
      throw .unsupported(spec.name, reason: "has no auxiliary head (auxiliary_head is Inception-v3's)")
    }
    if let n = spec.normalization, n.mean.count != spec.channels {
      throw .unsupported(spec.name, reason: "its normalisation is for \(n.mean.count) channels, its input has \(spec.channels)")
    }
  }

  /// Builds the model `spec` names, drawing its weights from `generator`.
  public static func make(_ spec: ModelSpec, generator: inout SeededGenerator) throws(ModelError) -> AnyModel {
    try check(spec)
    let (c, k, s, a, i) = (spec.channels, spec.classes, spec.imageSize, spec.activation, spec.initializer)
    switch spec.name {
    case "lenet":
      return AnyModel(LeNet(channels: c, classes: k, imageSize: s, activation: a, initializer: i, generator: &generator))
    case "cnn6":
      return AnyModel(CNN6(channels: c, classes: k, imageSize: s, activation: a, initializer: i, generator: &generator))
    case "fedavg_cnn":
      return AnyModel(FedAvgCNN(channels: c, classes: k, imageSize: s, activation: a, initializer: i, generator: &generator))
    case "mlp":
      return AnyModel(MLP(inputs: c * s * s, hidden: spec.hidden ?? [256], classes: k, activation: a, initializer: i, generator: &generator))
    case "resnet18":
      let stem = spec.resNetStem
      return AnyModel(ResNet18(channels: c, classes: k, stem: stem, activation: a, initializer: i, generator: &generator))
    case "densenet121":
      let last: Activation = spec.activationScope == .modules ? .relu : a
      return AnyModel(DenseNet121(channels: c, classes: k, activation: a, finalActivation: last, initializer: i, generator: &generator))
    case "inception_v3":
      let inner: Activation = spec.activationScope == .modules ? .relu : a
      return AnyModel(
        InceptionV3(channels: c, classes: k, auxiliaryHead: spec.auxiliaryHead ?? true, activation: inner, initializer: i, generator: &generator))
    default:
      throw .unknownModel(spec.name)
    }
  }
}
