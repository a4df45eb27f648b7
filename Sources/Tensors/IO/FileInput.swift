import Foundation

/// Reads a whole file at a path a person named (an update, a dataset, a run folder's files). Only
/// a regular file, or a link to one, is read: a device never ends (`/dev/zero`) and Foundation
/// refuses the rest saying "you don't have permission". Each failure is a reason for after
/// "PATH: cannot read: ".
public enum FileInput {
  /// Why a file could not be read: the same kind of reason as a write's.
  public typealias Failure = FileOutput.Failure

  public static func bytes(_ path: String) throws(Failure) -> [UInt8] {
    try checkRegular(path)
    do { return Array(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
      throw Failure(reason: FileOutput.reason(error))
    }
  }

  /// Throws unless `path` is, or links to, a regular file.
  public static func checkRegular(_ path: String) throws(Failure) {
    var info = stat()
    guard stat(path, &info) == 0 else { throw Failure(reason: String(cString: strerror(errno))) }
    switch info.st_mode & S_IFMT {
    case S_IFREG: return
    case S_IFDIR: throw Failure(reason: "it is a folder")
    default: throw Failure(reason: "it is not a regular file (a device or a pipe?)")
    }
  }
}
