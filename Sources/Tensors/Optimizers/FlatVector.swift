import COpenBLAS

/// Flat-vector arithmetic for the optimizers: parameters and gradients as one `[Float]`.
/// Dot products and norms accumulate in Double; the long loops run in OpenBLAS.
enum FlatVector {
  @inline(__always)
  static func dot(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "vector lengths \(a.count) and \(b.count) differ")
    BLAS.oneThreadPerCall()
    return cblas_dsdot(Int32(a.count), a, 1, b, 1)
  }

  /// `y += alpha * x`.
  @inline(__always)
  static func axpy(_ alpha: Float, _ x: [Float], _ y: inout [Float]) {
    precondition(x.count == y.count, "vector lengths \(x.count) and \(y.count) differ")
    BLAS.oneThreadPerCall()
    cblas_saxpy(Int32(y.count), alpha, x, 1, &y, 1)
  }

  static func maxAbs(_ a: [Float]) -> Float { a.reduce(0) { Swift.max($0, Swift.abs($1)) } }
  static func sumAbs(_ a: [Float]) -> Double { a.reduce(0) { $0 + Double(Swift.abs($1)) } }
}

extension Array where Element == Tensor {
  /// The tensors' elements concatenated into one vector.
  public var flattenedScalars: [Float] {
    var out: [Float] = []
    out.reserveCapacity(reduce(0) { $0 + $1.scalarCount })
    for t in self { t.withScalars { out.append(contentsOf: $0) } }
    return out
  }

  /// Tensors of these shapes holding consecutive stretches of `scalars`.
  public func unflattening(_ scalars: [Float]) -> [Tensor] {
    var offset = 0
    return map { t in
      defer { offset += t.scalarCount }
      return Tensor(shape: t.shape, scalars: [Float](scalars[offset..<offset + t.scalarCount]))
    }
  }
}
