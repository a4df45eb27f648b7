import Tensors

/// Why R-GAP cannot invert a model or a gradient.
public enum RGAPError: Error, Equatable, CustomStringConvertible {
  /// A layer outside R-GAP's conditions (pooling, batch norm, residual blocks …).
  case unsupportedLayer(name: String, type: String, reason: String)
  /// An activation with no inverse (ReLU maps every negative input to 0).
  case notInvertible(name: String, activation: String)
  /// The model does not end in a linear layer.
  case noFinalLinearLayer
  /// The shared gradient of the last layer is zero, or missing for a parameter.
  case gradient(String)
  /// A LAPACK failure.
  case solver(String)

  public var description: String {
    switch self {
    case .unsupportedLayer(let n, let t, let r):
      "R-GAP cannot invert layer '\(n)' (\(t)): \(r)"
    case .notInvertible(let n, let a):
      "R-GAP cannot invert layer '\(n)': the \(a) activation has no inverse (R-GAP needs an invertible one: sigmoid, tanh or leaky ReLU)"
    case .noFinalLinearLayer:
      "R-GAP needs a model that ends in a linear layer"
    case .gradient(let why):
      "R-GAP: \(why)"
    case .solver(let why):
      "R-GAP: \(why)"
    }
  }
}

/// One step of a model R-GAP can invert.
enum ChainStep {
  /// A convolution (a linear layer is a 1×1 convolution of a 1×1 image with one channel per
  /// feature), with its weight gradient.
  case linear(LinearStage)
  case activation(name: String, Activation)
  case flatten
}

/// A convolution or linear layer in the form R-GAP's equations use, in double precision.
struct LinearStage {
  var name: String
  var outputs: Int
  /// The input shape `[C, H, W]` (`[features, 1, 1]` for a linear layer).
  var input: [Int]
  var kernel: (Int, Int)
  var stride: (Int, Int)
  var padding: (Int, Int)
  /// `[O, C, kh, kw]`, flattened.
  var weight: [Double]
  var bias: [Double]?
  /// The shared gradient of `weight`, same layout.
  var weightGradient: [Double]
  /// The bias's shared gradient, when there is a bias.
  var biasGradient: [Double]?

  var outputSize: (Int, Int) {
    ((input[1] + 2 * padding.0 - kernel.0) / stride.0 + 1, (input[2] + 2 * padding.1 - kernel.1) / stride.1 + 1)
  }
  var outputCount: Int { outputs * outputSize.0 * outputSize.1 }
  var inputCount: Int { input.reduce(1, *) }
}

/// The model as R-GAP sees it: convolutions, linear layers, invertible activations and
/// flattens, in order, with each layer's shared gradient.
enum InvertibleChain {
  /// The steps of `model` on images of `imageShape` (`[C, H, W]`), or why R-GAP cannot
  /// invert it. `gradient` is in the model's parameter order.
  static func steps(of model: any Layer, imageShape: [Int], gradient: [Tensor]) throws(RGAPError) -> [ChainStep] {
    let names = model.namedParameters.map(\.name)
    guard names.count == gradient.count else {
      throw .gradient("the update holds \(gradient.count) gradients for a model of \(names.count) parameters")
    }
    let byName = Dictionary(uniqueKeysWithValues: zip(names, gradient))
    var layers: [(String, any Layer)] = []
    try flatten(model, prefix: "", into: &layers)
    var shape = imageShape
    var steps: [ChainStep] = []
    for (name, layer) in layers {
      let step = try self.step(layer, name: name, shape: shape, gradients: byName)
      switch step {
      case .linear(let s): shape = layer is Linear ? [s.outputs] : [s.outputs, s.outputSize.0, s.outputSize.1]
      case .flatten: shape = [shape.reduce(1, *)]
      case .activation: break
      }
      steps.append(step)
    }
    return steps
  }

  /// The primitive layers of `layer` with their parameter prefixes.
  private static func flatten(_ layer: any Layer, prefix: String, into out: inout [(String, any Layer)]) throws(RGAPError) {
    switch layer {
    case let m as AnyModel: try flatten(m.base, prefix: prefix, into: &out)
    case let s as Sequential:
      for (n, l) in zip(s.names, s.layers) { try flatten(l, prefix: prefix + n + ".", into: &out) }
    case let m as LeNet:
      try flatten(m.body, prefix: prefix + "body.", into: &out)
      out.append((prefix + "flatten", Flatten()))
      out.append((prefix + "fc.", m.fc))
    case let m as CNN6: try flatten(m.body, prefix: prefix + "body.", into: &out)
    case let m as MLP: try flatten(m.body, prefix: prefix + "body.", into: &out)
    case is Conv2d, is Linear, is Activation, is Flatten: out.append((prefix, layer))
    default:
      let type = "\(Swift.type(of: layer))"
      let reason =
        type.contains("Pool") ? "pooling discards what R-GAP's equations need"
        : type.contains("BatchNorm") ? "batch norm mixes the batch's statistics into every output"
        : type.contains("ResNet") || type.contains("DenseNet") || type.contains("Inception")
          ? "its branches and batch norm are outside R-GAP's chain of convolutions, linear layers and invertible activations"
        : "R-GAP inverts only chains of convolutions, linear layers and invertible activations"
      throw .unsupportedLayer(name: prefix.isEmpty ? "model" : String(prefix.dropLast()), type: type, reason: reason)
    }
  }

  private static func step(_ layer: any Layer, name: String, shape: [Int], gradients: [String: Tensor]) throws(RGAPError) -> ChainStep {
    let label = name.hasSuffix(".") ? String(name.dropLast()) : name
    func doubles(_ t: Tensor) -> [Double] { t.scalars.map(Double.init) }
    func gradient(_ n: String) throws(RGAPError) -> [Double] {
      guard let g = gradients[name + n] else { throw .gradient("no shared gradient for '\(name + n)'") }
      return doubles(g)
    }
    switch layer {
    case let a as Activation:
      guard a != .relu else { throw .notInvertible(name: label, activation: "ReLU") }
      return .activation(name: label, a)
    case is Flatten: return .flatten
    case let l as Linear:
      let features = l.weight.shape[1]
      guard shape.reduce(1, *) == features else {
        throw .unsupportedLayer(name: label, type: "Linear", reason: "its \(features) inputs do not match the \(shape) before it")
      }
      return .linear(
        LinearStage(
          name: label, outputs: l.weight.shape[0], input: [features, 1, 1], kernel: (1, 1), stride: (1, 1), padding: (0, 0),
          weight: doubles(l.weight), bias: l.bias.map(doubles), weightGradient: try gradient("weight"),
          biasGradient: l.bias == nil ? nil : try gradient("bias")))
    case let c as Conv2d:
      guard c.geometry.groups == 1 else {
        throw .unsupportedLayer(name: label, type: "Conv2d", reason: "grouped convolutions are not supported")
      }
      guard shape.count == 3, shape[0] == c.weight.shape[1] else {
        throw .unsupportedLayer(name: label, type: "Conv2d", reason: "it follows a flattened layer")
      }
      return .linear(
        LinearStage(
          name: label, outputs: c.weight.shape[0], input: shape, kernel: (c.weight.shape[2], c.weight.shape[3]),
          stride: c.geometry.stride, padding: c.geometry.padding, weight: doubles(c.weight), bias: c.bias.map(doubles),
          weightGradient: try gradient("weight"), biasGradient: c.bias == nil ? nil : try gradient("bias")))
    default:
      throw .unsupportedLayer(name: label, type: "\(type(of: layer))", reason: "not a convolution, linear layer or activation")
    }
  }
}
