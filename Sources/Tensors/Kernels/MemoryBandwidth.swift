import Dispatch

/// The rate of a memory-bound pass on FedSim's threads (`BLAS.threads`): `d[i] += s[i]` over two
/// arrays (`Kernels.accumulate`, the backward pass's sums of gradients). Arrays of a few MiB stay
/// in the shared cache; arrays of tens of MiB and more come from memory, whose bandwidth one core
/// may already take whole. `fedsim bench --big-scaling` sets this beside the passes' own scaling.
public enum MemoryBandwidth {
  /// GB/s (10⁹ bytes: two arrays read, one written) of `passes` add passes over two arrays of
  /// `bytes` each, after one pass that brings them in.
  public static func addPass(bytes: Int, passes: Int) -> Double {
    precondition(bytes >= 4 && passes >= 1, "MemoryBandwidth.addPass: at least one float and one pass")
    let count = bytes / 4
    let (d, s) = (UnsafeMutablePointer<Float>.allocate(capacity: count), UnsafeMutablePointer<Float>.allocate(capacity: count))
    defer {
      d.deallocate()
      s.deallocate()
    }
    Kernels.fill(d, count: count, with: 0)
    Kernels.fill(s, count: count, with: 1e-7)
    Kernels.accumulate(s, into: d, count: count)
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<passes { Kernels.accumulate(s, into: d, count: count) }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return 3 * Double(count * 4) * Double(passes) / seconds / 1e9
  }
}
