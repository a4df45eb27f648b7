import COpenBLAS
import Tensors
import Testing

@testable import Adversary

/// R-GAP's solves (BLAS `dsyrk`, LAPACK `dpstrf`, `dsyev`) are called directly, not through
/// `Tensor`. OpenBLAS keeps its own threads until FedSim first sets it to one a call, and a sum
/// over its threads differs from one thread's in the last bits: a `fed-adversary`'s first R-GAP
/// solve (before any tensor op had run) came out unlike the same solve later in the process.
@Suite("R-GAP's solves run OpenBLAS one thread a call")
struct RGAPThreadsTests {
  @Test("a solve sets OpenBLAS to one thread a call, whatever it was left at")
  func solveSetsOneThread() {
    // OpenBLAS at two threads for a few microseconds: other suites' products may run then,
    // each still correct to rounding.
    openblas_set_num_threads(2)
    var equations = NormalEquations(unknowns: 2)
    let threads = openblas_get_num_threads()
    openblas_set_num_threads(1)
    #expect(threads == 1, "OpenBLAS ran \(threads) threads a call for R-GAP's solve")
    var a = DenseMatrix(rows: 2, columns: 2)
    (a[0, 0], a[1, 1]) = (2, 4)
    equations.add(a, [2, 4])
    let solved = try? equations.solve(relativeCutoff: 1e-12)
    #expect(solved?.x == [1, 1] && solved?.rank == 2)
  }
}
