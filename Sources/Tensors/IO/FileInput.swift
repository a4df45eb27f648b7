import Foundation

/// Reads a whole file at a path a person named (an update, a dataset, a run folder's files). Only
/// a regular file, or a link to one, is read: a device never ends (`/dev/zero`) and Foundation
/// refuses the rest saying "you don't have permission". Each failure is a reason for after
/// "PATH: cannot read: ".
public enum FileInput {
  public static func bytes(_ path: String) throws(FileOutput.Failure) -> [UInt8] {
    var info = stat()
    guard stat(path, &info) == 0 else { throw FileOutput.Failure(reason: String(cString: strerror(errno))) }
    switch info.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: throw FileOutput.Failure(reason: "it is a folder")
    default: throw FileOutput.Failure(reason: "it is not a regular file (a device or a pipe?)")
    }
    do { return Array(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
      throw FileOutput.Failure(reason: FileOutput.reason(error))
    }
  }
}
