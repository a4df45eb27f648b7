extension Kernels {
  /// The pullback of the input gradient `gx = γ·s·P g` for `L = <u, gx>`, in one pass per channel
  /// (the rule in `Op.batchNormPullback`, which as elementwise ops is some twenty passes over
  /// the layer): `dx = −γ·s²·(ūx·P g + b̄·P u + x̂·cross)` and `dγ = s·N·cross`, with
  /// `cross = mean(u·g) − ū·ḡ − b̄·ūx`, `b̄ = mean(g·x̂)`, `ūx = mean(u·x̂)`.
  ///
  /// Given `du`, also `∂L/∂g = γ·s·P u` (the input gradient of `u`) from the same sums of `u`.
  ///
  /// Given `w`, the upstream of the weight gradient `Σ g·x̂` of the same `g` and `x`, that one's
  /// pullback too (`batchNormWeightGradientPullback`), added into the same `du` and `dx`: `g`
  /// and `x` read once for both.
  static func batchNormInputGradientPullback(
    _ u: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>,
    _ p: ChannelPlanes, statistics: UnsafePointer<Float>, weightUpstream w: UnsafePointer<Float>? = nil,
    du: Destination? = nil, dx: Destination?, dGamma: UnsafeMutablePointer<Float>
  ) {
    let count = Double(p.count)
    p.forEachChannel(statistics) { c, mean, s in
      let gs = p.sums(g, x, c, mean: mean, inverseDeviation: s)
      let us = p.sums(u, x, c, mean: mean, inverseDeviation: s)
      let wc = w?[c] ?? 0
      if let du {
        p.writeProjection(u, x, c, mean: mean, s: s, sums: us, scale: gamma[c] * s, plusNormalised: wc, into: du)
      }
      let ug = p.dot(u, g, c)
      let (gm, gx) = (gs.plain / count, gs.normalised / count)
      let (um, ux) = (us.plain / count, us.normalised / count)
      let cross = ug / count - um * gm - gx * ux
      dGamma[c] = Float(Double(s) * cross * count)
      let (fgm, fgx, fum, fux, fcross) = (Float(gm), Float(gx), Float(um), Float(ux), Float(cross))
      let (scale, ws) = (-gamma[c] * s * s, wc * s)
      guard let dx else { return }
      p.forEachPlane(of: c) { start in
        dx.write(start..<start + p.plane) { k in
          let xh = (x[k] - mean) * s
          let pg = g[k] - fgm - xh * fgx
          let pu = u[k] - fum - xh * fux
          return scale * (fux * pg + fgx * pu + xh * fcross) + ws * pg
        }
      }
    }
  }

  /// The pullback of the weight gradient `gγ = Σ g·x̂` for `L = <w, gγ>`, in one pass per
  /// channel: `dg = w·x̂` and `dx = w·s·P g` (the rule in `Op.batchNormPullback`).
  static func batchNormWeightGradientPullback(
    _ w: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ p: ChannelPlanes,
    statistics: UnsafePointer<Float>, dg: Destination?, dx: Destination?
  ) {
    p.forEachChannel(statistics) { c, mean, s in
      let gs = p.sums(g, x, c, mean: mean, inverseDeviation: s)
      let (gm, gx) = (Float(gs.plain / Double(p.count)), Float(gs.normalised / Double(p.count)))
      let (wc, scale) = (w[c], w[c] * s)
      p.forEachPlane(of: c) { start in
        let plane = start..<start + p.plane
        dg?.write(plane) { k in wc * ((x[k] - mean) * s) }
        dx?.write(plane) { k in scale * (g[k] - gm - (x[k] - mean) * s * gx) }
      }
    }
  }
}
