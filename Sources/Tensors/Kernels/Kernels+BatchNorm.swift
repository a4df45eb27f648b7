/// The per-channel passes of batch normalisation over NCHW tensors: `n` samples of `channels`
/// planes of `plane` elements, channel `c` of sample `i` at `(i·channels + c)·plane`.
struct ChannelPlanes {
  let n: Int, channels: Int, plane: Int

  init(_ shape: [Int]) {
    precondition(shape.count == 4, "batch norm takes NCHW input, not \(shape)")
    (n, channels, plane) = (shape[0], shape[1], shape[2] * shape[3])
  }

  /// Elements per channel.
  var count: Int { n * plane }

  /// Calls `body(start)` with the start of each of channel `c`'s planes.
  @inline(__always)
  func forEachPlane(of c: Int, _ body: (Int) -> Void) {
    for i in 0..<n { body((i * channels + c) * plane) }
  }

  /// The mean and `1/√(variance + ε)` (biased variance) of channel `c` of `x`, summed in Double
  /// (the squares in runs of 256 in Float, `laneSum`).
  func statistics(_ x: UnsafePointer<Float>, _ c: Int, epsilon: Float) -> (mean: Float, inverseDeviation: Float) {
    var total = 0.0
    forEachPlane(of: c) { total += Kernels.sumAll(x + $0, count: plane) }
    let mean = total / Double(count)
    var squares = 0.0
    let m = Float(mean)
    forEachPlane(of: c) { start in
      let p = x + start
      squares += Self.laneSum(plane) { k in
        let d = Self.load(p + k) - m
        return d * d
      } tail: { k in (p[k] - m) * (p[k] - m) }
    }
    let variance = squares / Double(count)
    return (Float(mean), Float(1 / (variance + Double(epsilon)).squareRoot()))
  }

  /// Every channel's mean and `1/√(var + ε)`, [mean₀, s₀, mean₁, s₁, …], kept with `x`: the
  /// forward pass, both gradients and their pullbacks read the same statistics (through
  /// `withStatistics`).
  private func statistics(of x: TensorStorage, epsilon: Float) -> TensorStorage {
    let key = DerivedLayout(
      kind: .channelStatistics(epsilon: epsilon.bitPattern, channels: channels, plane: plane), shape: nil)
    if let cached = x.derived.withLock({ $0[key] }) { return cached }
    let stats = TensorStorage(count: 2 * channels)
    let out = Shared(stats.base)
    Kernels.parallel(channels, work: count * channels) { range in
      for c in range { (out.pointer[2 * c], out.pointer[2 * c + 1]) = statistics(x.base, c, epsilon: epsilon) }
    }
    x.derived.withLock { $0[key] = stats }
    return stats
  }

  /// `body` with the statistics of `x` (`statistics(of:epsilon:)`), alive while it runs (they are
  /// kept with `x`, but an accumulation into `x` drops what was kept).
  func withStatistics<R>(of x: TensorStorage, epsilon: Float, _ body: (UnsafePointer<Float>) -> R) -> R {
    let stats = statistics(of: x, epsilon: epsilon)
    return withExtendedLifetime(stats) { body(stats.base) }
  }

  /// Calls `body(c, mean, s)` for every channel with its `statistics`, the channels split over
  /// the threads (on one thread below `Kernels.parallelElements` elements, as other passes).
  func forEachChannel(_ statistics: UnsafePointer<Float>, _ body: (Int, Float, Float) -> Void) {
    Kernels.parallel(channels, work: channels * count) { range in
      for c in range { body(c, statistics[2 * c], statistics[2 * c + 1]) }
    }
  }

  /// `Σ a` and `Σ a·(x − mean)·s` over channel `c`: the sums the gradients need, in one pass, in
  /// Float over runs of at most 256 terms and in Double across the runs.
  func sums(
    _ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ c: Int, mean: Float, inverseDeviation s: Float
  ) -> (plain: Double, normalised: Double) {
    var (plain, normalised) = (0.0, 0.0)
    let (m8, s8) = (SIMD8<Float>(repeating: mean), SIMD8<Float>(repeating: s))
    forEachPlane(of: c) { start in
      let (pa, px) = (a + start, x + start)
      var (first, second) = (SIMD8<Double>(), SIMD8<Double>())
      var k = 0
      while plane - k >= 8 {
        let stop = k + Swift.min(256, (plane - k) / 8 * 8)
        var (f, g) = (SIMD8<Float>(), SIMD8<Float>())
        while k < stop {
          let va = Self.load(pa + k)
          f += va
          g += va * ((Self.load(px + k) - m8) * s8)
          k += 8
        }
        first += SIMD8<Double>(f)
        second += SIMD8<Double>(g)
      }
      plain += first.sum()
      normalised += second.sum()
      while k < plane {
        plain += Double(pa[k])
        normalised += Double(pa[k] * ((px[k] - mean) * s))
        k += 1
      }
    }
    return (plain, normalised)
  }

  /// `d = scale·(a − mean(a) − x̂·mean(a·x̂)) + w·x̂` over channel `c`, the means from `sums` (of
  /// `a` and `x`, as `sums` gives them): `γ·s·P a`, batch norm's input gradient of `a`; `w`, the
  /// seed of the weight gradient `Σ g·x̂` when its pullback to `g` is added in the same pass.
  @inline(__always)
  func writeProjection(
    _ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ c: Int, mean: Float, s: Float,
    sums: (plain: Double, normalised: Double), scale: Float, plusNormalised w: Float = 0, into d: Kernels.Destination
  ) {
    let (am, ax) = (Float(sums.plain / Double(count)), Float(sums.normalised / Double(count)))
    forEachPlane(of: c) { start in
      d.write(start..<start + plane) { k in
        let xh = (x[k] - mean) * s
        return scale * (a[k] - am - xh * ax) + w * xh
      }
    }
  }

  /// `Σ a·b` over channel `c`.
  func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: Int) -> Double {
    var total = 0.0
    forEachPlane(of: c) { start in
      let (pa, pb) = (a + start, b + start)
      total += Self.laneSum(plane) { k in Self.load(pa + k) * Self.load(pb + k) } tail: { k in pa[k] * pb[k] }
    }
    return total
  }

  @inline(__always)
  static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
  }

  /// `Σ_k term(k)` over `0..<count`, eight terms at once (`lanes(k)` gives terms `k ..< k + 8`),
  /// the last few one by one: in Float over runs of at most 256 terms, each run added in Double.
  @inline(__always)
  static func laneSum(_ count: Int, _ lanes: (Int) -> SIMD8<Float>, tail: (Int) -> Float) -> Double {
    var acc = SIMD8<Double>()
    var k = 0
    while count - k >= 8 {
      let stop = k + Swift.min(256, (count - k) / 8 * 8)
      var run = SIMD8<Float>()
      while k < stop {
        run += lanes(k)
        k += 8
      }
      acc += SIMD8<Double>(run)
    }
    var total = acc.sum()
    while k < count {
      total += Double(tail(k))
      k += 1
    }
    return total
  }
}

extension Kernels {
  /// `y = (x − mean)·s·γ + β` per channel, with the batch's statistics; given an `activation`
  /// (a sigmoid or a ReLU), `activation(y)` in the same pass, the plane's normalised values never
  /// written (each the float the affine alone writes, its activation the one `sigmoid` or `relu`
  /// gives for it).
  static func batchNorm(
    _ x: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>, _ p: ChannelPlanes,
    statistics: UnsafePointer<Float>, then activation: Activation? = nil, into y: UnsafeMutablePointer<Float>
  ) {
    precondition([nil, .sigmoid, .relu].contains(activation), "batch norm then \(activation!): not one op")
    let relu = ElementFunction.ReLU()
    p.forEachChannel(statistics) { c, mean, s in
      let (scale, shift) = (s * gamma[c], beta[c] - mean * s * gamma[c])
      p.forEachPlane(of: c) { start in
        switch activation {
        case .sigmoid: sigmoidRun(x + start, count: p.plane, into: y + start, scale: scale, shift: shift)
        case .relu: for k in start..<start + p.plane { y[k] = relu(x[k] * scale + shift) }
        default: for k in start..<start + p.plane { y[k] = x[k] * scale + shift }
        }
      }
    }
  }

  /// `gx = γ·s·(g − mean(g) − x̂·mean(g·x̂))` per channel, `x̂ = (x − mean)·s`: the input gradient;
  /// and, given `gw`, the weight gradient `Σ g·x̂` from the same sums (one pass over `g` and `x`
  /// where two ops' kernels made two).
  static func batchNormInputGradient(
    _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>, _ p: ChannelPlanes,
    statistics: UnsafePointer<Float>, into gx: Destination, weightGradient gw: UnsafeMutablePointer<Float>? = nil
  ) {
    p.forEachChannel(statistics) { c, mean, s in
      let sums = p.sums(g, x, c, mean: mean, inverseDeviation: s)
      gw?[c] = Float(sums.normalised)
      p.writeProjection(g, x, c, mean: mean, s: s, sums: sums, scale: gamma[c] * s, into: gx)
    }
  }

  /// `Σ g·x̂` per channel: the gradient of γ.
  static func batchNormWeightGradient(
    _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ p: ChannelPlanes, statistics: UnsafePointer<Float>,
    into gw: UnsafeMutablePointer<Float>
  ) {
    p.forEachChannel(statistics) { c, mean, s in
      gw[c] = Float(p.sums(g, x, c, mean: mean, inverseDeviation: s).normalised)
    }
  }
}
