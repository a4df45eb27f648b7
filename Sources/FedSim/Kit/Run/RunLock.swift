import FedSimCore
import Foundation
import Synchronization

/// `lock.json` in a run's top folder: the pids of the launcher and of every child it started.
/// A run (or `--resume`) refuses the folder while any of them still lives as a FedSim process;
/// a finished run removes it, and one killed leaves it with only dead pids, which is no lock.
public final class RunLock: Sendable {
  struct Contents: Codable { var pids: [Int32] }

  public let path: String
  private let folder: RunFolder
  private let pids = Mutex<[Int32]>([])

  /// Takes the lock of `folder`, or says which of the earlier run's processes still live.
  public init(folder: RunFolder) throws(FederationError) {
    (self.folder, path) = (folder, folder.path + "/lock.json")
    if let earlier = try? folder.readJSON(Contents.self, from: path) {
      let alive = earlier.pids.filter(Self.isFedSimProcess)
      if !alive.isEmpty {
        throw .failed("\(folder.path) is in use by a run still going (pids \(alive.map(String.init).joined(separator: ", "))): stop it first")
      }
    }
    try add(getpid())
  }

  /// Records a child's pid.
  public func add(_ pid: Int32) throws(FederationError) {
    // Written under the lock, so concurrent points never write an older list over a newer one.
    let failure = pids.withLock { all -> RunFolderError? in
      all.append(pid)
      do throws(RunFolderError) { try folder.writeJSON(Contents(pids: all), to: path) } catch { return error }
      return nil
    }
    if let failure { throw .folder(failure) }
  }

  /// Gives the lock up (the run ended, well or not, with its children stopped).
  public func release() { try? FileManager.default.removeItem(atPath: path) }

  /// Whether `pid` is a live process running one of FedSim's binaries (not a reused pid).
  public static func isFedSimProcess(_ pid: Int32) -> Bool {
    guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
    // A zombie (dead, not yet reaped) is no process: its state after the name is Z.
    if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")"), stat[close...].dropFirst(2).first == "Z"
    {
      return false
    }
    guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe") else { return true }
    let name = (link as NSString).lastPathComponent
    return name.hasPrefix("fed") || name.hasPrefix("FedSim")
  }
}
