/// A differentiable function with named parameters.
///
/// Parameters are visited under PyTorch `state_dict` names (`body.0.weight`), so weights and
/// gradients round-trip with PyTorch through safetensors.
public protocol Layer: Sendable {
  func callAsFunction(_ x: Tensor) -> Tensor
  /// Calls `body` with each parameter's full name (`prefix` + own name) and the parameter itself,
  /// which `body` may replace with a tensor of the same shape.
  mutating func visitParameters(prefix: String, _ body: (String, inout Tensor) throws -> Void) rethrows
}

extension Layer {
  /// The parameters in visiting order, by `state_dict` name.
  public var namedParameters: [(name: String, tensor: Tensor)] {
    var copy = self
    var out: [(String, Tensor)] = []
    copy.visitParameters(prefix: "") { name, t in out.append((name, t)) }
    return out
  }

  /// The parameters in visiting order.
  public var parameters: [Tensor] { namedParameters.map(\.tensor) }

  /// The same layer with every parameter a fresh graph leaf, ready for `gradients(of:wrt:)`.
  public func requiringGradients() -> Self {
    var copy = self
    copy.visitParameters(prefix: "") { _, t in t = t.requiringGradient() }
    return copy
  }

  /// Replaces every parameter with the tensor of its name, failing on a missing, extra or
  /// mis-shaped tensor.
  public mutating func loadParameters(_ tensors: [String: Tensor]) throws(ParameterError) {
    var seen = Set<String>()
    var failure: ParameterError?
    visitParameters(prefix: "") { name, t in
      guard failure == nil else { return }
      guard let new = tensors[name] else {
        failure = .missing(name)
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

  /// The same layer with its parameters replaced, in visiting order, by `tensors`.
  public func withParameters(_ tensors: [Tensor]) -> Self {
    var copy = self
    var i = 0
    copy.visitParameters(prefix: "") { name, t in
      precondition(i < tensors.count && tensors[i].shape == t.shape, "parameter \(name): wrong replacement")
      t = tensors[i]
      i += 1
    }
    precondition(i == tensors.count, "\(tensors.count) tensors for \(i) parameters")
    return copy
  }

  /// The number of scalars in all parameters.
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.scalarCount } }

  /// The parameters with each replaced by `transform(name, tensor)`.
  public func mapParameters(_ transform: (String, Tensor) -> Tensor) -> Self {
    var copy = self
    copy.visitParameters(prefix: "") { name, t in t = transform(name, t) }
    return copy
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
    case .unexpected(let n): "unexpected parameter '\(n)' (the model has no such tensor)"
    case .shapeMismatch(let n, let e, let f): "parameter '\(n)' has shape \(f), the model needs \(e)"
    }
  }
}
