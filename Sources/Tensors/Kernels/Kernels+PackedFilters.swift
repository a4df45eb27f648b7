import CGatherProduct
import COpenBLAS

/// A layer's filters packed once, as FedSim's product packs its vector side, and kept with them.
///
/// A product with few columns (a 7×7 layer's 49 pixels) runs turned, `cᵀ = xᵀ · op(w)ᵀ`, and
/// its vector side is then the filters: ResNet-18's 512-channel layers repacked 9.4 MiB of them
/// from memory at every pass, about a tenth of the pass. Packed once, a pass reads the panels.
/// The filters of an attack are fixed, so the packing is paid once an attack. Filters read once
/// (the weight gradient's pullback reads new ones at every evaluation) are better packed a
/// block at a time, into the L2, as `gemm` does: so filters are packed whole from their second
/// product in the same direction on.
extension Kernels {
  /// `c [m × n] = op(w) · x + beta · c` for a layer's filters `w` (`op(w)` is w [m × k], or
  /// wᵀ for w [k × m] when `transposed`) and `x` [k × n] (rows `ldx` apart), through op(w)ᵀ
  /// packed and kept with `w`, where FedSim's product would run it turned, or where wᵀ would be
  /// read in place and turning issues no more FMAs (`fedsim_filter_product_turns`), and `w` was
  /// read so before. False (c untouched) where not: the caller then runs `gemm`. The sums are
  /// `gemm`'s, element for element.
  static func filterProduct(
    _ w: TensorStorage, transposed: Bool, m: Int, n: Int, k: Int, _ x: UnsafePointer<Float>, ldx: Int,
    beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int
  ) -> Bool {
    guard widerProducts, m > 0, n > 0, k > 0, w.count == m * k,
      fedsim_filter_product_turns(Int64(m), Int64(n), transposed ? 1 : 0) == 1
    else { return false }
    guard let kept = packedFilter(w, transposed: transposed, m: m, k: k) else { return false }
    let packed = aligned(kept)
    LayerTimes.timed("product \(m)×\(k) · \(k)×\(n)", flops: 2 * m * n * k) {
      KernelTimes.timed(.products) {
        gemmFLOPs.add(2 &* m &* n &* k, ordering: .relaxed)
        let parts = blasThreads > 1 && m &* n &* k >= splitWork && m >= 2 * splitEdge ? blasThreads : 1
        let step = ((m + parts - 1) / parts + 15) / 16 * 16  // whole panels of 16 filters a part
        let (packed, c) = (Shared(packed), Shared(c))
        parallel(parts) { range in
          for part in range where part * step < m {
            let (j, rows) = (part * step, Swift.min(step, m - part * step))
            let at = c.pointer + j * ldc
            if fedsim_packed_product(
              1, Int64(n), Int64(rows), Int64(k), x, Int64(ldx), packed.pointer, Int64(m), Int64(j), beta, at,
              Int64(ldc), 1) == 0
            { continue }
            // No scratch for the turned product: these rows the usual way, on this thread.
            cblas_sgemm(
              CblasRowMajor, transposed ? CblasTrans : CblasNoTrans, CblasNoTrans, Int32(rows), Int32(n), Int32(k), 1,
              transposed ? w.base + j : w.base + j * k, Int32(transposed ? m : k), x, Int32(ldx), beta, at, Int32(ldc))
          }
        }
      }
    }
    return true
  }

  /// op(w)ᵀ [k × m] packed for `fedsim_packed_product` (from `aligned(_:)` on), made at the
  /// second use and kept with `w`; nil at the first, which leaves an empty mark in its place.
  private static func packedFilter(_ w: TensorStorage, transposed: Bool, m: Int, k: Int) -> TensorStorage? {
    let key = DerivedLayout(kind: .packedFilter(transposed: transposed, rows: m, steps: k), shape: nil)
    let seen = w.derived.withLock { derived -> TensorStorage? in
      defer { if derived[key] == nil { derived[key] = TensorStorage(count: 0) } }
      return derived[key]
    }
    guard let seen else { return nil }
    if seen.count > 0 { return seen }
    let packed = TensorStorage(count: Int(fedsim_packed_filter_count(Int64(k), Int64(m))) + alignment - 1)
    // op(w)ᵀ is w read the other way: wᵀ of w [m × k], or w itself when op(w) = wᵀ.
    fedsim_pack_filter(transposed ? 0 : 1, Int64(k), Int64(m), w.base, Int64(transposed ? m : k), aligned(packed))
    w.derived.withLock { $0[key] = packed }
    return packed
  }

  /// The kernel reads its panels with aligned loads: 64 bytes, in floats.
  private static let alignment = 16

  /// The first 64-byte boundary in `s`'s elements.
  private static func aligned(_ s: TensorStorage) -> UnsafeMutablePointer<Float> {
    let misaligned = Int(bitPattern: s.base) % (4 * alignment) / 4
    return s.base + (misaligned == 0 ? 0 : alignment - misaligned)
  }
}
