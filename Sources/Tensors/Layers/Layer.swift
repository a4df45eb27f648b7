/// Whether a named tensor of a layer is trained (a parameter) or only tracked (a buffer, such
/// as batch norm's running statistics).
public enum TensorRole: Sendable { case parameter, buffer }

/// A differentiable function with named parameters and buffers.
///
/// Tensors are visited under PyTorch `state_dict` names (`body.0.weight`) and in `state_dict`
/// order (a module's own parameters, then its buffers, then its children), so weights,
/// gradients and checkpoints round-trip with PyTorch through safetensors.
public protocol Layer: Sendable {
  func callAsFunction(_ x: Tensor) -> Tensor
  /// Calls `body` with each tensor's full name (`prefix` + own name), its role and the tensor
  /// itself, which `body` may replace with a tensor of the same shape.
  mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows
}

extension Layer {
  /// Visits only the parameters.
  public mutating func visitParameters(prefix: String = "", _ body: (String, inout Tensor) throws -> Void) rethrows {
    try visit(prefix: prefix) { name, role, t in if role == .parameter { try body(name, &t) } }
  }

  /// The parameters in visiting order, by `state_dict` name.
  public var namedParameters: [(name: String, tensor: Tensor)] {
    var copy = self
    var out: [(String, Tensor)] = []
    copy.visitParameters { name, t in out.append((name, t)) }
    return out
  }

  /// Every parameter and buffer in `state_dict` order.
  public var stateDict: [(name: String, tensor: Tensor)] {
    var copy = self
    var out: [(String, Tensor)] = []
    copy.visit(prefix: "") { name, _, t in out.append((name, t)) }
    return out
  }

  /// The parameters in visiting order.
  public var parameters: [Tensor] { namedParameters.map(\.tensor) }

  /// The number of scalars in all parameters.
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.scalarCount } }

  /// The same layer with every parameter a fresh graph leaf, ready for `gradients(of:wrt:)`.
  public func requiringGradients() -> Self {
    var copy = self
    copy.visitParameters { _, t in t = t.requiringGradient() }
    return copy
  }

  /// The same layer with its parameters replaced, in visiting order, by `tensors`.
  public func withParameters(_ tensors: [Tensor]) -> Self {
    var copy = self
    var i = 0
    copy.visitParameters { name, t in
      precondition(i < tensors.count && tensors[i].shape == t.shape, "parameter \(name): wrong replacement")
      t = tensors[i]
      i += 1
    }
    precondition(i == tensors.count, "\(tensors.count) tensors for \(i) parameters")
    return copy
  }

  /// Replaces every parameter (and, when `tensors` holds them, every buffer) with the tensor of
  /// its name, failing on a missing, extra or mis-shaped tensor. Buffers may be absent: a
  /// parameters-only file (such as a shared gradient's weights) leaves them as they are.
  public mutating func loadStateDict(_ tensors: [String: Tensor]) throws(ParameterError) {
    var seen = Set<String>()
    var failure: ParameterError?
    visit(prefix: "") { name, role, t in
      guard failure == nil else { return }
      guard let new = tensors[name] else {
        if role == .parameter { failure = .missing(name) }
        return
      }
      guard new.shape == t.shape else {
        failure = .shapeMismatch(name, expected: t.shape, found: new.shape)
        return
      }
      t = new
      seen.insert(name)
    }
    if let failure { throw failure }
    if let extra = tensors.keys.filter({ !seen.contains($0) }).sorted().first {
      throw .unexpected(extra)
    }
  }

  /// Loads a checkpoint saved as safetensors under `state_dict` names (as PyTorch's
  /// `save_file(model.state_dict())` writes it); errors name the file and the tensor.
  public mutating func load(safetensors path: String) throws -> [String: String] {
    let file = try SafetensorsFile(contentsOf: path)
    do { try loadStateDict(file.tensors) } catch { throw SafetensorsError.malformed(source: path, reason: "\(error)") }
    return file.metadata
  }

  /// Saves every parameter and buffer under its `state_dict` name, atomically.
  public func save(safetensors path: String, metadata: [String: String] = [:]) throws {
    var tensors: [String: Tensor] = [:]
    for (name, t) in stateDict { tensors[name] = t }
    try SafetensorsFile(tensors: tensors, metadata: metadata).write(to: path)
  }

}

/// A parameter set that does not match a model.
public enum ParameterError: Error, Equatable, CustomStringConvertible {
  case missing(String)
  case unexpected(String)
  case shapeMismatch(String, expected: [Int], found: [Int])

  public var description: String {
    switch self {
    case .missing(let n): "parameter '\(n)' is missing"
    case .unexpected(let n): "unexpected tensor '\(n)' (the model has no such parameter or buffer)"
    case .shapeMismatch(let n, let e, let f): "tensor '\(n)' has shape \(f), the model needs \(e)"
    }
  }
}

/// How layers behave in a forward pass: batch norm's statistics and dropout.
public struct ForwardMode: Sendable, Equatable {
  /// Batch norm normalises by the batch's own mean and variance (else by its running ones).
  public var usesBatchStatistics: Bool
  /// Batch norm folds the batch's statistics into its running ones.
  public var updatesRunningStatistics: Bool
  /// Dropout drops.
  public var dropoutIsActive: Bool

  /// PyTorch's `model.train()`.
  public static let training = ForwardMode(usesBatchStatistics: true, updatesRunningStatistics: true, dropoutIsActive: true)
  /// PyTorch's `model.eval()`.
  public static let inference = ForwardMode(usesBatchStatistics: false, updatesRunningStatistics: false, dropoutIsActive: false)
  /// What gradient-inversion attacks use: batch statistics as in training (so the dummy gradient
  /// is computed as the client's was), no dropout, and the model left unchanged.
  public static let attack = ForwardMode(usesBatchStatistics: true, updatesRunningStatistics: false, dropoutIsActive: false)

  @TaskLocal public static var current: ForwardMode = .attack
}

/// Runs `body` with layers in `mode`.
public func withForwardMode<R>(_ mode: ForwardMode, _ body: () throws -> R) rethrows -> R {
  try ForwardMode.$current.withValue(mode, operation: body)
}
