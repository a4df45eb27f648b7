import COpenBLAS
import Synchronization

/// One layout a kernel derives from its input (a convolution's, or batch norm's statistics).
struct DerivedLayout: Hashable {
  enum Kind: Hashable {
    case columns, padded, winogradFilter
    /// Batch norm's per-channel mean and `1/√(var + ε)` of the elements seen as `channels`
    /// planes of `plane` (ε by its bit pattern).
    case channelStatistics(epsilon: UInt32, channels: Int, plane: Int)
    /// A layer's filters as FedSim's product packs op(w)ᵀ, op(w) being `rows × steps`
    /// (`Kernels.filterProduct`).
    case packedFilter(transposed: Bool, rows: Int, steps: Int)
  }
  let kind: Kind
  let shape: ConvShape?
}

/// An immutable, contiguous block of Float32 scalars shared by the tensors that view it.
///
/// Storage is written once, by the kernel that creates it, and never mutated afterwards, which is
/// what makes `Tensor` safe to send between threads.
final class TensorStorage: @unchecked Sendable {
  let base: UnsafeMutablePointer<Float>
  let count: Int
  /// Derived layouts of these (immutable) elements that kernels may reuse, such as the column
  /// matrix a convolution unfolds its input into or the zero-padded copy a direct convolution
  /// reads: the same activation is read by the forward pass, the filter gradient and the double
  /// backward.
  let derived = Mutex<[DerivedLayout: TensorStorage]>([:])

  /// Uninitialised storage: the caller writes every element before publishing it.
  init(count: Int) {
    precondition(count >= 0, "negative element count")
    _ = mallocIsTuned
    self.count = count
    self.base = .allocate(capacity: Swift.max(count, 1))
  }

  /// Storage with every element set to `value` (a large one filled on FedSim's threads: the
  /// paddings and zeros of a DenseNet-121 evaluation were otherwise one thread's alone).
  convenience init(count: Int, repeating value: Float) {
    self.init(count: count)
    Kernels.fill(base, count: count, with: value)
  }

  convenience init<C: Collection>(_ scalars: C) where C.Element == Float {
    self.init(count: scalars.count)
    var i = 0
    for s in scalars {
      base[i] = s
      i += 1
    }
  }

  deinit { base.deallocate() }

  var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: base, count: count) }
}

/// Keeps freed blocks in the process instead of returning them to the kernel after every
/// evaluation: tensors of a few hundred kilobytes are made and freed thousands of times a second,
/// and glibc would otherwise map and unmap them (a page fault per page, every time). Nor is the
/// top of the heap given back: at the end of an evaluation everything above its last live block
/// is free, and whether that passed a threshold of 256 MiB (once set here) depended on where the
/// blocks happened to fall. When it did, every evaluation faulted in and zeroed its pages anew:
/// Inception-v3 with its 1×7 layers by Winograd took 29,000 to 74,000 page faults an evaluation
/// (0.1–0.3 GiB zeroed) and 16–28% longer. Kept up to 2 GiB, the heap stops growing after the
/// first evaluation.
private let mallocIsTuned: Bool = {
  #if os(Linux)
    _ = mallopt(M_MMAP_THRESHOLD, 64 << 20)  // map only blocks over 64 MiB
    _ = mallopt(M_TRIM_THRESHOLD, Int32.max)  // give memory back past 2 GiB free
  #endif
  return true
}()
