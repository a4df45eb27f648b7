import Adversary
import FedSimCore
import Tensors

/// A scenario as its YAML file states it (`scenarios/README.md`): every key optional, unknown
/// keys errors. `design()` fills in the defaults, expands the sweep and resolves every point
/// into a validated `Scenario`, which is all the processes ever see.
public struct ScenarioFile: Codable, Sendable, Equatable {
  public var name: String?
  public var seed: UInt64?
  public var repeats: Int?
  public var model: ModelSection?
  public var dataset: DatasetSection?
  public var federation: FederationSection?
  public var attack: AttackSection?
  public var defenses: [Defense]?
  public var dpSgd: DPSGDSection?
  public var secureAggregation: Bool?
  public var sweep: Sweep?
  /// Where the points run: `local` (this machine, `jobs` at once) or `slurm` (a job array).
  public var executor: ExecutorKind?
  /// The Slurm array's options, for `executor: slurm`.
  public var slurm: SlurmOptions?

  public init() {}

  enum CodingKeys: String, CodingKey {
    case name, seed, repeats, model, dataset, federation, attack, defenses, sweep, executor, slurm
    case dpSgd = "dp_sgd", secureAggregation = "secure_aggregation"
  }

  public struct ModelSection: Codable, Sendable, Equatable {
    public init() {}
    public var name: String?
    public var activation: Activation?
    /// Classes of the output; the dataset's when absent.
    public var classes: Int?
    /// How weights are first drawn: `dlg-uniform` (DLG's) or `pytorch` (PyTorch's defaults).
    public var initializer: Initializer?
    /// The model's input size: images are resized (antialiased bilinear) and centre-cropped to
    /// it, as torchvision's Resize and CenterCrop (default: the data's own size).
    public var size: Int?
    /// The model's input normalisation: `imagenet`, `none` (default), `M1,M2,M3/S1,S2,S3` or
    /// `{mean: [...], std: [...]}`.
    public var normalize: NormalizeSetting?
    /// Where the activation goes: `all` (default), or `modules`, as a torchvision model whose
    /// `nn.ReLU` modules were swapped for it (docs/attacks.md).
    public var activationScope: ActivationScope?
    /// Inception-v3's auxiliary head (default: on).
    public var auxiliaryHead: Bool?

    enum CodingKeys: String, CodingKey {
      case name, activation, classes, size, normalize
      case initializer = "init", activationScope = "activation_scope", auxiliaryHead = "auxiliary_head"
    }

    /// The keys a model section may have.
    static let keys = ["name", "activation", "classes", "init", "size", "normalize", "activation_scope", "auxiliary_head"]
  }

  public struct DatasetSection: Codable, Sendable, Equatable {
    public init() {}
    /// A dataset file or folder, a PNG, or `shapes` for the built-in set.
    public var path: String?
    public var count: Int?
    /// `iid`, `dirichlet` or `shards`.
    public var partition: String?
    public var alpha: Double?
    public var shards: Int?
    public var testFraction: Double?

    enum CodingKeys: String, CodingKey {
      case path, count, partition, alpha, shards
      case testFraction = "test_fraction"
    }
  }

  public struct FederationSection: Codable, Sendable, Equatable {
    public init() {}
    public var clients: Int?
    public var rounds: Int?
    public var algorithm: Algorithm?
    public var localBatch: Int?
    public var epochs: Int?
    public var learningRate: Double?
    public var sample: Double?
    public var deadline: Double?
    public var quorum: Int?
    public var host: String?
    public var port: Int?
    public var security: Security?

    enum CodingKeys: String, CodingKey {
      case clients, rounds, algorithm, epochs, sample, deadline, quorum, host, port, security
      case localBatch = "local_batch", learningRate = "learning_rate"
    }
  }

  public struct AttackSection: Codable, Sendable, Equatable {
    public init() {}
    public var method: AttackKind?
    public var iterations: Int?
    public var rounds: [Int]?
    public var victims: [Int]?
    public var restarts: Int?
    public var threshold: Double?
    /// FedAvg: read an update as one gradient step (`one-step`) or replay the local steps.
    public var fedavgUpdate: FedAvgReading?
    /// Where an optimising attack's dummies start: normal, uniform or rgap.
    public var start: AttackStart?

    enum CodingKeys: String, CodingKey {
      case method, iterations, rounds, victims, restarts, threshold, start
      case fedavgUpdate = "fedavg_update"
    }
  }

  public struct DPSGDSection: Codable, Sendable, Equatable {
    public init() {}
    public var clip: Double?
    public var noiseMultiplier: Double?
    public var delta: Double?

    enum CodingKeys: String, CodingKey {
      case clip, delta
      case noiseMultiplier = "noise_multiplier"
    }
  }

  /// Values to sweep; the grid is every combination, or with `combine: each` each key varied
  /// alone from the file's own setting (which is then the first point, `base`). A noise,
  /// clipping or pruning value of 0 means that defense is off at that point; `local_batch` is
  /// the clients' batch size.
  public struct Sweep: Codable, Sendable, Equatable {
    public init() {}
    public var combine: Combine?
    public var quantize: [Defense.Quantization]?
    /// FedAvg's local epochs.
    public var epochs: [Int]?
    /// How the images are split among clients: iid, dirichlet (with the file's alpha) or shards.
    public var partition: [String]?
    /// How the adversary reads FedAvg updates.
    public var fedavgUpdate: [FedAvgReading]?
    public var gaussianNoise: [Float]?
    public var laplaceNoise: [Float]?
    public var clip: [Float]?
    public var prune: [Float]?
    public var localBatch: [Int]?
    /// DP-SGD's noise multiplier (0: no DP-SGD at that point).
    public var dpNoiseMultiplier: [Double]?
    /// Attacks to compare on the same updates.
    public var attackMethod: [AttackKind]?
    /// Where the attacks' dummies start, compared on the same updates.
    public var attackStart: [AttackStart]?
    /// Dataset paths (each point reads its own; classes, channels and size follow the data).
    public var dataset: [String]?
    /// Zoo models: by name, or each a model section of its own (a mapping of the `model` keys,
    /// and `local_batch` where the model needs its own, as Inception-v3's batch norm needs two).
    public var model: [ModelChoice]?

    enum CodingKeys: String, CodingKey {
      case clip, prune
      case gaussianNoise = "gaussian_noise", laplaceNoise = "laplace_noise", localBatch = "local_batch"
      case dpNoiseMultiplier = "dp_noise_multiplier", attackMethod = "attack_method", attackStart = "attack_start", dataset, model
      case combine, quantize, epochs, partition
      case fedavgUpdate = "fedavg_update"
    }

    /// How the swept keys make points.
    public enum Combine: String, Codable, Sendable {
      /// Every combination of the keys' values.
      case grid
      /// The file's own setting, then each key's values one key at a time (one curve per
      /// defense in the privacy–utility chart).
      case each
    }
  }
}

extension AttackKind {
  /// The attack library's default iterations for this method.
  var defaultIterations: Int { AttackMethod(rawValue: rawValue)?.defaultIterations ?? 300 }
}
