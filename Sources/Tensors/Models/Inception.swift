/// Inception's convolution unit: a bias-free convolution, batch norm (ε = 0.001), activation.
public struct BasicConv2d: Layer {
  public var conv: Conv2d, bn: BatchNorm2d
  public var activation: Activation

  public init(
    _ inputs: Int, _ outputs: Int, kernel: (Int, Int), stride: Int = 1, padding: (Int, Int) = (0, 0),
    activation: Activation, initializer: Initializer, generator: inout SeededGenerator
  ) {
    conv = Conv2d(inputs, outputs, kernel: kernel, stride: (stride, stride), padding: padding, bias: false, initializer: initializer, generator: &generator)
    bn = BatchNorm2d(outputs, epsilon: 0.001, initializer: initializer, generator: &generator)
    self.activation = activation
  }

  public func callAsFunction(_ x: Tensor) -> Tensor { bn(conv(x), then: activation) }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    try conv.visit(prefix: prefix + "conv.", body)
    try bn.visit(prefix: prefix + "bn.", body)
  }
}

/// One of Inception-v3's mixed modules (torchvision's InceptionA–E), its convolutions named and
/// ordered as torchvision registers them.
public struct InceptionModule: Layer {
  public enum Kind: String, Sendable { case a, b, c, d, e }
  public var kind: Kind
  public var names: [String]
  public var convs: [BasicConv2d]

  /// (name, inputs, outputs, kernel, stride, padding) per convolution.
  typealias Plan = [(String, Int, Int, (Int, Int), Int, (Int, Int))]

  init(_ kind: Kind, plan: Plan, activation: Activation, initializer: Initializer, generator: inout SeededGenerator) {
    self.kind = kind
    names = plan.map(\.0)
    convs = plan.map {
      BasicConv2d($0.1, $0.2, kernel: $0.3, stride: $0.4, padding: $0.5, activation: activation, initializer: initializer, generator: &generator)
    }
  }

  public static func a(_ i: Int, poolFeatures: Int, _ act: Activation, _ ini: Initializer, _ g: inout SeededGenerator) -> Self {
    InceptionModule(.a, plan: [
      ("branch1x1", i, 64, (1, 1), 1, (0, 0)), ("branch5x5_1", i, 48, (1, 1), 1, (0, 0)), ("branch5x5_2", 48, 64, (5, 5), 1, (2, 2)),
      ("branch3x3dbl_1", i, 64, (1, 1), 1, (0, 0)), ("branch3x3dbl_2", 64, 96, (3, 3), 1, (1, 1)),
      ("branch3x3dbl_3", 96, 96, (3, 3), 1, (1, 1)), ("branch_pool", i, poolFeatures, (1, 1), 1, (0, 0)),
    ], activation: act, initializer: ini, generator: &g)
  }

  public static func b(_ i: Int, _ act: Activation, _ ini: Initializer, _ g: inout SeededGenerator) -> Self {
    InceptionModule(.b, plan: [
      ("branch3x3", i, 384, (3, 3), 2, (0, 0)), ("branch3x3dbl_1", i, 64, (1, 1), 1, (0, 0)),
      ("branch3x3dbl_2", 64, 96, (3, 3), 1, (1, 1)), ("branch3x3dbl_3", 96, 96, (3, 3), 2, (0, 0)),
    ], activation: act, initializer: ini, generator: &g)
  }

  public static func c(_ i: Int, c7: Int, _ act: Activation, _ ini: Initializer, _ g: inout SeededGenerator) -> Self {
    InceptionModule(.c, plan: [
      ("branch1x1", i, 192, (1, 1), 1, (0, 0)), ("branch7x7_1", i, c7, (1, 1), 1, (0, 0)),
      ("branch7x7_2", c7, c7, (1, 7), 1, (0, 3)), ("branch7x7_3", c7, 192, (7, 1), 1, (3, 0)),
      ("branch7x7dbl_1", i, c7, (1, 1), 1, (0, 0)), ("branch7x7dbl_2", c7, c7, (7, 1), 1, (3, 0)),
      ("branch7x7dbl_3", c7, c7, (1, 7), 1, (0, 3)), ("branch7x7dbl_4", c7, c7, (7, 1), 1, (3, 0)),
      ("branch7x7dbl_5", c7, 192, (1, 7), 1, (0, 3)), ("branch_pool", i, 192, (1, 1), 1, (0, 0)),
    ], activation: act, initializer: ini, generator: &g)
  }

  public static func d(_ i: Int, _ act: Activation, _ ini: Initializer, _ g: inout SeededGenerator) -> Self {
    InceptionModule(.d, plan: [
      ("branch3x3_1", i, 192, (1, 1), 1, (0, 0)), ("branch3x3_2", 192, 320, (3, 3), 2, (0, 0)),
      ("branch7x7x3_1", i, 192, (1, 1), 1, (0, 0)), ("branch7x7x3_2", 192, 192, (1, 7), 1, (0, 3)),
      ("branch7x7x3_3", 192, 192, (7, 1), 1, (3, 0)), ("branch7x7x3_4", 192, 192, (3, 3), 2, (0, 0)),
    ], activation: act, initializer: ini, generator: &g)
  }

  public static func e(_ i: Int, _ act: Activation, _ ini: Initializer, _ g: inout SeededGenerator) -> Self {
    InceptionModule(.e, plan: [
      ("branch1x1", i, 320, (1, 1), 1, (0, 0)), ("branch3x3_1", i, 384, (1, 1), 1, (0, 0)),
      ("branch3x3_2a", 384, 384, (1, 3), 1, (0, 1)), ("branch3x3_2b", 384, 384, (3, 1), 1, (1, 0)),
      ("branch3x3dbl_1", i, 448, (1, 1), 1, (0, 0)), ("branch3x3dbl_2", 448, 384, (3, 3), 1, (1, 1)),
      ("branch3x3dbl_3a", 384, 384, (1, 3), 1, (0, 1)), ("branch3x3dbl_3b", 384, 384, (3, 1), 1, (1, 0)),
      ("branch_pool", i, 192, (1, 1), 1, (0, 0)),
    ], activation: act, initializer: ini, generator: &g)
  }

  func conv(_ name: String) -> BasicConv2d { convs[names.firstIndex(of: name)!] }

  /// The named convolutions applied in order.
  func chain(_ x: Tensor, _ chain: String...) -> Tensor { chain.reduce(x) { conv($1)($0) } }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    switch kind {
    case .a:
      return concat([
        chain(x, "branch1x1"), chain(x, "branch5x5_1", "branch5x5_2"),
        chain(x, "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"),
        chain(avgPool2d(x, kernel: 3, stride: 1, padding: 1), "branch_pool"),
      ], alongAxis: 1)
    case .b:
      return concat([
        chain(x, "branch3x3"), chain(x, "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"),
        maxPool2d(x, kernel: 3, stride: 2),
      ], alongAxis: 1)
    case .c:
      return concat([
        chain(x, "branch1x1"), chain(x, "branch7x7_1", "branch7x7_2", "branch7x7_3"),
        chain(x, "branch7x7dbl_1", "branch7x7dbl_2", "branch7x7dbl_3", "branch7x7dbl_4", "branch7x7dbl_5"),
        chain(avgPool2d(x, kernel: 3, stride: 1, padding: 1), "branch_pool"),
      ], alongAxis: 1)
    case .d:
      return concat([
        chain(x, "branch3x3_1", "branch3x3_2"),
        chain(x, "branch7x7x3_1", "branch7x7x3_2", "branch7x7x3_3", "branch7x7x3_4"),
        maxPool2d(x, kernel: 3, stride: 2),
      ], alongAxis: 1)
    case .e:
      let b3 = chain(x, "branch3x3_1")
      let d3 = chain(x, "branch3x3dbl_1", "branch3x3dbl_2")
      return concat([
        chain(x, "branch1x1"),
        concat([chain(b3, "branch3x3_2a"), chain(b3, "branch3x3_2b")], alongAxis: 1),
        concat([chain(d3, "branch3x3dbl_3a"), chain(d3, "branch3x3dbl_3b")], alongAxis: 1),
        chain(avgPool2d(x, kernel: 3, stride: 1, padding: 1), "branch_pool"),
      ], alongAxis: 1)
    }
  }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    for i in convs.indices { try convs[i].visit(prefix: prefix + names[i] + ".", body) }
  }
}

/// Inception-v3's auxiliary classifier (on Mixed_6e's output).
public struct InceptionAux: Layer {
  public var conv0: BasicConv2d, conv1: BasicConv2d, fc: Linear

  public init(_ inputs: Int, classes: Int, activation: Activation, initializer: Initializer, generator: inout SeededGenerator) {
    conv0 = BasicConv2d(inputs, 128, kernel: (1, 1), activation: activation, initializer: initializer, generator: &generator)
    conv1 = BasicConv2d(128, 768, kernel: (5, 5), activation: activation, initializer: initializer, generator: &generator)
    fc = Linear(768, classes, initializer: initializer, generator: &generator)
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    fc(conv1(conv0(avgPool2d(x, kernel: 5, stride: 3))).mean(alongAxes: [2, 3]))
  }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    try conv0.visit(prefix: prefix + "conv0.", body)
    try conv1.visit(prefix: prefix + "conv1.", body)
    try fc.visit(prefix: prefix + "fc.", body)
  }
}

/// Inception-v3 (Szegedy et al. 2016) for 299×299 input, with torchvision's names; the
/// auxiliary head is optional (torchvision's default has it). The forward pass returns the main
/// logits; `auxiliaryLogits(_:)` gives the auxiliary head's.
public struct InceptionV3: Layer {
  public var stem: Sequential
  public var mixed: [(String, InceptionModule)]
  public var aux: InceptionAux?
  public var fc: Linear
  public var dropout: Dropout

  public init(
    channels: Int = 3, classes: Int = 1000, auxiliaryHead: Bool = true, activation: Activation = .relu,
    initializer: Initializer = .pytorchDefault, generator: inout SeededGenerator
  ) {
    let (a, i) = (activation, initializer)
    func bc(_ cin: Int, _ cout: Int, _ k: Int, stride: Int = 1, padding: Int = 0) -> BasicConv2d {
      BasicConv2d(cin, cout, kernel: (k, k), stride: stride, padding: (padding, padding), activation: a, initializer: i, generator: &generator)
    }
    stem = Sequential(named: [
      ("Conv2d_1a_3x3", bc(channels, 32, 3, stride: 2)), ("Conv2d_2a_3x3", bc(32, 32, 3)),
      ("Conv2d_2b_3x3", bc(32, 64, 3, padding: 1)), ("maxpool1", MaxPool2d(kernel: 3, stride: 2)),
      ("Conv2d_3b_1x1", bc(64, 80, 1)), ("Conv2d_4a_3x3", bc(80, 192, 3)), ("maxpool2", MaxPool2d(kernel: 3, stride: 2)),
    ])
    mixed = [
      ("Mixed_5b", .a(192, poolFeatures: 32, a, i, &generator)), ("Mixed_5c", .a(256, poolFeatures: 64, a, i, &generator)),
      ("Mixed_5d", .a(288, poolFeatures: 64, a, i, &generator)), ("Mixed_6a", .b(288, a, i, &generator)),
      ("Mixed_6b", .c(768, c7: 128, a, i, &generator)), ("Mixed_6c", .c(768, c7: 160, a, i, &generator)),
      ("Mixed_6d", .c(768, c7: 160, a, i, &generator)), ("Mixed_6e", .c(768, c7: 192, a, i, &generator)),
    ]
    aux = auxiliaryHead ? InceptionAux(768, classes: classes, activation: a, initializer: i, generator: &generator) : nil
    mixed += [
      ("Mixed_7a", .d(768, a, i, &generator)), ("Mixed_7b", .e(1280, a, i, &generator)), ("Mixed_7c", .e(2048, a, i, &generator)),
    ]
    fc = Linear(2048, classes, initializer: initializer, generator: &generator)
    dropout = Dropout(probability: 0.5)
  }

  /// Where the auxiliary head's parameters are named (torchvision's `AuxLogits`).
  public static let auxiliaryPrefix = "AuxLogits."

  /// Mixed_6e's output, where the auxiliary head reads.
  func trunk(_ x: Tensor) -> Tensor { mixed.prefix(8).reduce(stem(x)) { $1.1($0) } }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    let y = mixed.dropFirst(8).reduce(trunk(x)) { $1.1($0) }
    return fc(dropout(y.mean(alongAxes: [2, 3])))
  }

  /// The auxiliary head's logits, or nil without one.
  public func auxiliaryLogits(_ x: Tensor) -> Tensor? { aux.map { $0(trunk(x)) } }

  public mutating func visit(prefix: String, _ body: (String, TensorRole, inout Tensor) throws -> Void) rethrows {
    try stem.visit(prefix: prefix, body)
    for k in mixed.indices {
      try mixed[k].1.visit(prefix: prefix + mixed[k].0 + ".", body)
      if mixed[k].0 == "Mixed_6e", var head = aux {
        try head.visit(prefix: prefix + Self.auxiliaryPrefix, body)
        aux = head
      }
    }
    try fc.visit(prefix: prefix + "fc.", body)
  }
}
