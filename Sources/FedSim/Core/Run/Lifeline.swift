import Foundation

/// How a child process dies with its launcher, however the launcher dies (kill -9 included):
/// the launcher holds the write end of a pipe whose read end is every child's standard input.
/// Only the launcher writes to it (never, in fact); when the launcher's process ends, the kernel
/// closes that end, every child reads end-of-file and stops. A child started by hand or by a
/// scheduler has no `FEDSIM_LIFELINE` in its environment and watches nothing.
public enum Lifeline {
  /// The environment variable that tells a child its standard input is the lifeline.
  public static let variable = "FEDSIM_LIFELINE"

  /// In a child: if the launcher gave a lifeline, a thread waits on it and ends the process
  /// (status 3, the reason on stderr) when the launcher is gone.
  public static func watch(role: String) {
    guard ProcessInfo.processInfo.environment[variable] == "stdin" else { return }
    let thread = Thread {
      var byte: UInt8 = 0
      while true {
        let n = read(0, &byte, 1)
        if n == 0 || (n < 0 && errno != EINTR) { break }
      }
      let line = "\(role): the launcher is gone (its lifeline closed); stopping\n"
      _ = line.withCString { write(2, $0, strlen($0)) }
      _exit(3)
    }
    thread.start()
  }

  /// In the launcher: a pipe whose ends are closed on exec, so only the children given the read
  /// end as standard input hold it, and no child holds the write end.
  public static func make() throws(FederationError) -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0, fcntl(fds[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(fds[1], F_SETFD, FD_CLOEXEC) == 0 else {
      throw .failed("cannot make the children's lifeline pipe: \(String(cString: strerror(errno)))")
    }
    return (fds[0], fds[1])
  }
}
