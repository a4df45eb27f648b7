import Tensors

/// How a dataset is split among clients.
public enum Partition: Sendable, Equatable, Codable {
  /// A random split into near-equal parts.
  case iid
  /// Label skew: each class is split among clients in proportions drawn from Dirichlet(α).
  case dirichlet(alpha: Double)
  /// The images sorted by label, cut into `clients × shardsPerClient` shards, each client
  /// taking `shardsPerClient` at random (McMahan et al. 2017).
  case shards(perClient: Int)

  /// The image indices of each client. Every image goes to exactly one client.
  public func assign(labels: [Int], clients: Int, seed: UInt64) -> [[Int]] {
    precondition(clients > 0, "at least one client")
    var gen = SeededGenerator(seed: seed)
    switch self {
    case .iid:
      var order = Array(labels.indices)
      order.shuffle(using: &gen)
      return (0..<clients).map { c in stride(from: c, to: order.count, by: clients).map { order[$0] } }
    case .dirichlet(let alpha):
      precondition(alpha > 0, "Dirichlet α must be positive")
      var parts = [[Int]](repeating: [], count: clients)
      let classes = (labels.max() ?? -1) + 1
      for k in 0..<classes {
        var members = labels.indices.filter { labels[$0] == k }
        members.shuffle(using: &gen)
        let weights = (0..<clients).map { _ in gamma(shape: alpha, using: &gen) }
        let total = weights.reduce(0, +)
        var start = 0
        var cumulative = 0.0
        for c in 0..<clients {
          cumulative += weights[c] / total
          let end = c == clients - 1 ? members.count : Int((cumulative * Double(members.count)).rounded())
          parts[c] += members[start..<Swift.max(start, end)]
          start = Swift.max(start, end)
        }
      }
      return parts.map { $0.sorted() }
    case .shards(let perClient):
      precondition(perClient > 0, "at least one shard per client")
      let order = labels.indices.sorted { (labels[$0], $0) < (labels[$1], $1) }
      let shardCount = clients * perClient
      var shardIDs = Array(0..<shardCount)
      shardIDs.shuffle(using: &gen)
      return (0..<clients).map { c in
        shardIDs[(c * perClient)..<((c + 1) * perClient)].flatMap { s in
          order[(s * order.count / shardCount)..<((s + 1) * order.count / shardCount)]
        }.sorted()
      }
    }
  }
}

/// A Gamma(shape, 1) deviate (Marsaglia & Tsang 2000; boosted for shape < 1).
func gamma(shape: Double, using gen: inout SeededGenerator) -> Double {
  if shape < 1 {
    let u = 1 - gen.nextUnitDouble()
    return gamma(shape: shape + 1, using: &gen) * pow(u, 1 / shape)
  }
  let d = shape - 1.0 / 3
  let c = 1 / (9 * d).squareRoot()
  while true {
    let z = Double(gen.nextNormal())
    let v = (1 + c * z) * (1 + c * z) * (1 + c * z)
    guard v > 0 else { continue }
    let u = 1 - gen.nextUnitDouble()
    if log(u) < 0.5 * z * z + d - d * v + d * log(v) { return d * v }
  }
}

#if canImport(Glibc)
  import Glibc
#endif
