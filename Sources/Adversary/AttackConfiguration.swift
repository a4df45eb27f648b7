import Tensors

/// The gradient-inversion attacks FedSim runs. Each recovers a batch of private images (and
/// labels) from one shared gradient; `docs/attacks.md` describes them.
public enum AttackMethod: String, Sendable, Codable, CaseIterable {
  /// Deep Leakage from Gradients (Zhu et al. 2019): image and soft label optimised jointly by
  /// L-BFGS on the squared gradient distance.
  case dlg
  /// Improved DLG (Zhao et al. 2020): labels read off the last layer first, then DLG on the image.
  case idlg
  /// Wasserstein DLG (Wang et al. 2023): labels first, then L-BFGS on a Wasserstein distance.
  case wdlg
  /// Inverting Gradients (Geiping et al. 2020): cosine distance plus total variation, signed
  /// Adam with a step learning-rate schedule, pixels boxed to the valid range.
  case ig
  /// R-GAP (Zhu and Blaschko 2021): closed-form recursive inversion, layer by layer from the
  /// output down, by least squares; no optimisation (chains of convolutions, linear layers and
  /// invertible activations; a batch solved jointly).
  case rgap

  /// The gradient distance the method minimises.
  public var distance: GradientDistance {
    switch self {
    case .dlg, .idlg, .rgap: .l2
    case .wdlg: .wasserstein
    case .ig: .cosine
    }
  }

  /// Whether the labels are read off the gradient before optimising (all but DLG).
  public var recoversLabelsFirst: Bool { self != .dlg }

  /// Iterations by default: 300 L-BFGS steps (DLG's setting), 4,800 Adam steps for Inverting
  /// Gradients (its CIFAR setting), none for R-GAP.
  public var defaultIterations: Int {
    switch self {
    case .ig: 4800
    case .rgap: 0
    default: 300
    }
  }

  /// Whether the method optimises (all but R-GAP, which solves in closed form).
  public var optimises: Bool { self != .rgap }

  /// The learning rate by default: 1 for L-BFGS (DLG's), 0.1 for signed Adam (IG's).
  public var defaultLearningRate: Float { self == .ig ? 0.1 : 1 }
}

/// How to run one attack.
public struct AttackConfiguration: Sendable, Codable, Equatable {
  public var method: AttackMethod
  /// L-BFGS steps (each up to 20 inner iterations) for the DLG family, Adam steps for IG.
  public var iterations: Int
  /// The most independent starts from fresh random dummies; the one ending nearest the shared
  /// gradient is kept (the attacker has no ground truth to choose by). No further start is
  /// drawn once one has converged.
  public var restarts: Int
  /// A start has converged when its distance falls to this fraction of its starting distance.
  /// DLG's successes end near 1e-8 of where they began and its failures stall above 1e-4
  /// (CIFAR-100, LeNet), so the default sits between.
  public var convergedFraction: Double
  public var seed: UInt64
  public var learningRate: Float
  /// The total-variation weight (Inverting Gradients only).
  public var totalVariation: Float
  /// The valid pixel range, where Inverting Gradients boxes its image.
  public var pixelRange: ClosedRange<Float>
  /// FedAvg: the local steps to replay on the dummy batch (nil: the update is read as one gradient).
  public var localSteps: LocalSteps?
  /// How the dummy images start (nil: `DummyInitialization.automatic(batch:)`).
  public var initialization: DummyInitialization?
  /// The gradient distance to minimise (nil: the method's own, `AttackMethod.distance`).
  public var distance: GradientDistance?

  public init(
    method: AttackMethod = .dlg, iterations: Int? = nil, restarts: Int = 1, seed: UInt64 = 0,
    learningRate: Float? = nil, totalVariation: Float = 1e-2, pixelRange: ClosedRange<Float> = 0...1,
    convergedFraction: Double = 1e-6, localSteps: LocalSteps? = nil, initialization: DummyInitialization? = nil,
    distance: GradientDistance? = nil
  ) {
    precondition(restarts >= 1, "an attack needs at least one start")
    self.method = method
    self.iterations = iterations ?? method.defaultIterations
    self.restarts = restarts
    self.seed = seed
    self.learningRate = learningRate ?? method.defaultLearningRate
    self.totalVariation = totalVariation
    self.pixelRange = pixelRange
    self.convergedFraction = convergedFraction
    self.localSteps = localSteps
    self.initialization = initialization
    self.distance = distance
  }
}

/// How an attack's dummy images start.
public enum DummyInitialization: String, Sendable, Codable, CaseIterable {
  /// Standard normal pixels, as DLG's and iDLG's code draws them (`torch.randn`).
  case normal
  /// Uniform over the valid pixel range (`torch.rand` for images in [0, 1]). At batch 2 and
  /// above the normal start stalls with the gradient distance near 1e-2 where this one goes on
  /// to 1e-5 (docs/attacks.md).
  case uniform
  /// R-GAP's closed-form reconstruction, with R-GAP's labels as the known labels (every method,
  /// DLG too): the optimisation then polishes what the closed form leaves noisy. Only the first
  /// start; further ones draw as `automatic(batch:)`. R-GAP's conditions apply.
  case rgap

  /// The start an attack uses when none is asked for: DLG's normal one for a single image,
  /// where it recovers more often, and the uniform one for a batch.
  public static func automatic(batch: Int) -> DummyInitialization { batch > 1 ? .uniform : .normal }

  /// Starting values for dummy pixels of `shape` whose valid range is `range`.
  func draw(_ shape: [Int], range: ClosedRange<Float>, using generator: inout SeededGenerator) -> [Float] {
    switch self {
    case .normal: return Tensor.normal(shape, using: &generator).scalars
    case .uniform:
      return Tensor.uniform(shape, low: range.lowerBound, high: range.upperBound, using: &generator).scalars
    case .rgap: return Self.automatic(batch: shape[0]).draw(shape, range: range, using: &generator)
    }
  }
}
