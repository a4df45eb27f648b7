import FedSimCore
import COpenBLAS
import CZeroMQ
import Foundation

/// The versions of the native libraries FedSim is linked against.
public enum NativeLibraries {
  /// libzmq's version, as `major.minor.patch`.
  public static var zeroMQ: String {
    var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
    zmq_version(&major, &minor, &patch)
    return "\(major).\(minor).\(patch)"
  }

  /// OpenBLAS's build configuration string (version, target core, threading).
  public static var openBLAS: String {
    guard let config = openblas_get_config() else { return "unknown" }
    return String(cString: config).trimmingCharacters(in: .whitespaces)
  }

  /// The kernels OpenBLAS chose for this CPU when it loaded (its core name: "Haswell",
  /// "SkylakeX", "Zen"…), with a note where that is its SSE3 fallback, "Prescott": FedSim's
  /// build needs AVX2, so on any CPU it runs on, that means this OpenBLAS does not know the CPU
  /// (Debian's 0.3.21 on an Intel Emerald Rapids, family 6 model 207: 29–33 GFLOP/s on a 1024³
  /// product where OPENBLAS_CORETYPE=SKYLAKEX gives 148).
  public static var openBLASKernels: String {
    guard let name = openblas_get_corename() else { return "unknown" }
    let core = String(cString: name)
    guard core.lowercased() == "prescott" else { return core }
    return core + " (SSE3: this OpenBLAS does not know the CPU; OPENBLAS_CORETYPE=HASWELL, or SKYLAKEX"
      + " with AVX-512, picks faster kernels)"
  }
}
