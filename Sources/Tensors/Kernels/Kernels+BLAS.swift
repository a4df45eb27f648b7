import CGatherProduct
import COpenBLAS
import Synchronization

extension Kernels {
  /// `c = alpha · op(a) · op(b) + beta · c`, row-major: through FedSim's own product where it
  /// takes it (`ownProduct`), else OpenBLAS `cblas_sgemm`. `op(a)` is m×k and `op(b)`
  /// is k×n; `lda`/`ldb` are the row lengths as stored. A large product is cut into one block of
  /// rows or columns of `c` for each of FedSim's threads. Timed as products (`KernelTimes`).
  @inline(__always)
  static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Float = 1, _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    LayerTimes.timed("product \(m)×\(k) · \(k)×\(n)", flops: 2 * m * n * k) {
      KernelTimes.timed(.products) {
        product(
          transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a, lda: lda, b, ldb: ldb,
          beta: beta, c, ldc: ldc)
      }
    }
  }

  @inline(__always)
  private static func product(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Float, _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
    beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    if m == 0 || n == 0 { return }
    if k == 0 {
      for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
      return
    }
    gemmFLOPs.add(2 &* m &* n &* k, ordering: .relaxed)
    let own = ownProduct(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k)
    let call = { (m: Int, n: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) in
      if own, fedsim_matrix_product(
        transposeA ? 1 : 0, transposeB ? 1 : 0, Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b, Int64(ldb),
        beta, c, Int64(ldc)) == 0
      { return }
      cblas_sgemm(
        CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    let threads = blasThreads
    guard threads > 1, m &* n &* k >= splitWork, Swift.max(m, n) >= 2 * splitEdge else { return call(m, n, a, b, c) }
    if n >= m {  // blocks of columns: of op(b) and of c
      let step = (n + threads - 1) / threads
      parallel(threads) { parts in
        for part in parts where part * step < n {
          let j = part * step
          call(m, Swift.min(step, n - j), a, b + (transposeB ? j * ldb : j), c + j)
        }
      }
    } else {  // blocks of rows: of op(a) and of c
      let step = (m + threads - 1) / threads
      parallel(threads) { parts in
        for part in parts where part * step < m {
          let i = part * step
          call(Swift.min(step, m - i), n, a + (transposeA ? i : i * lda), b, c + i * ldc)
        }
      }
    }
  }

  /// Whether FedSim's own product runs here (`Sources/CGatherProduct/matrix_product.c`): in
  /// AVX-512 where the CPU has AVX-512F and `FEDSIM_NO_AVX512` is unset (OpenBLAS may be held to
  /// its AVX2 kernels on such CPUs, `OPENBLAS_CORETYPE`, at half their width), else in AVX2 with
  /// FMA.
  static let widerProducts = fedsim_matrix_product_available() == 1

  /// Whether `gemm` runs a product through FedSim's own kernel rather than OpenBLAS: every
  /// product in AVX-512; in AVX2 only those that a layer's kept filters serve
  /// (`filterProduct`: op(a) the filters, turned), so that the first product with a layer's
  /// filters, through `gemm`, has the sums of the later ones through the kept panels. OpenBLAS's
  /// own AVX2 kernels are faster on the rest (Zen 3, one thread: 131 against 77 GFLOP/s at
  /// 1024 × 1024 × 1024), but for a short reduction (`k` ≤ 64) over a large output (m·n ≥ 2¹⁸):
  /// with β = 0 OpenBLAS first zeroes the whole output in a pass of its own (`sgemm_beta`), which
  /// costs as much as a fifth of such a product. ResNet-18's 512 → 512 filter gradient over 7×7
  /// (k = 49 into 512 × 4,608) took 8.2 ms an evaluation this way against 11.1–12.4 (Zen 3).
  static func ownProduct(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int) -> Bool {
    guard widerProducts else { return false }
    return fedsim_panel_product_wide() != 0
      || (!transposeB && fedsim_filter_product_turns(Int64(m), Int64(n), transposeA ? 1 : 0) == 1)
      || (k <= shortReduction && m &* n >= 1 << 18)
  }

  /// A reduction this short or shorter is `ownProduct`'s where the output is large.
  static let shortReduction = 64

  /// Products smaller than this (m·n·k) stay on one thread.
  static let splitWork = 1 << 18
  /// Nor is a product cut into blocks narrower than this.
  static let splitEdge = 16

  /// Floating-point operations issued to `gemm` (2·m·n·k a call) and to the direct convolution's
  /// products (the useful lanes only) since the process began.
  static let gemmFLOPs = Atomic<Int>(0)

  /// FedSim's threads for matrix products and the passes around them. OpenBLAS itself runs one
  /// thread a call: its own workers spin between products and would take the cores from the
  /// passes in between. Starts at what OpenBLAS was given (`OPENBLAS_NUM_THREADS`, else the
  /// cores).
  private static let threadCount = Atomic<Int>(initialThreads())

  private static func initialThreads() -> Int {
    let n = Int(openblas_get_num_threads())
    openblas_set_num_threads(1)
    return Swift.max(1, n)
  }

  /// Sets the number of threads products and passes use.
  static func setBLASThreads(_ n: Int) { threadCount.store(Swift.max(1, n), ordering: .relaxed) }

  /// The number of threads products and passes use.
  static var blasThreads: Int { threadCount.load(ordering: .relaxed) }
}

/// The threads the products and the passes between them use (FedSim's own: OpenBLAS runs one a
/// call). `OPENBLAS_NUM_THREADS=1` is usually fastest for LeNet-sized problems.
public enum BLAS {
  /// Floating-point operations issued to matrix products and direct convolutions so far: the benchmarks'
  /// measure of the work a computation needs, against which its time is set.
  public static var matrixFLOPs: Int { Kernels.gemmFLOPs.load(ordering: .relaxed) }

  /// This machine's matrix-product rate in GFLOP/s on the BLAS threads set: a `size`³ product,
  /// the best of three.
  public static func peakGFLOPs(size: Int = 2048) -> Double {
    let a = Tensor(shape: [size, size], scalars: [Float](repeating: 0.5, count: size * size))
    let clock = ContinuousClock()
    var best = Double.infinity
    for _ in 0..<3 {
      let d = clock.measure { _ = withoutGradients { matmul(a, a) } }
      best = Swift.min(best, Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
    }
    return 2 * Double(size) * Double(size) * Double(size) / best / 1e9
  }

  /// Call before BLAS or LAPACK routines called directly (not through `gemm`): OpenBLAS then
  /// runs one thread a call, as FedSim's products do. Until `Kernels.threadCount` is first read
  /// OpenBLAS runs its own threads, and their sums (a `dsyrk` over blocks of rows) differ from
  /// one thread's in the last bits: an adversary's first R-GAP solve came out unlike its later
  /// ones.
  public static func oneThreadPerCall() {
    _ = Kernels.blasThreads
    if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
  }

  public static var threads: Int {
    get { Kernels.blasThreads }
    set { Kernels.setBLASThreads(newValue) }
  }
}
