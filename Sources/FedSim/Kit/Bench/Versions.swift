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
}
