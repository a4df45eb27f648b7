import Foundation

/// Writes a whole file at a path a person named (`--out`, a run folder's files). A regular file,
/// or a new one, is written atomically: a temporary file beside it renamed into place, so that a
/// reader never sees half a file and a failed write leaves the old one whole. Through a symbolic
/// link the file it points to is replaced or made, not the link (Foundation's atomic write would
/// put a file in the link's place). A character device or a pipe (`/dev/stdout` into a pipe, a FIFO)
/// is written directly: renaming over it would replace the device node itself, as root did with
/// `/dev/full`. A folder, a block device or a socket is refused.
public enum FileOutput {
  /// Why a file could not be written: a sentence for after "PATH: cannot write: ".
  public struct Failure: Error, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
  }

  public static func write(_ data: Data, to path: String) throws(Failure) {
    var info = stat()
    guard stat(path, &info) == 0 else { return try replace(danglingTarget(path) ?? path, with: data) }  // a new file
    switch info.st_mode & S_IFMT {
    case S_IFREG: try replace(resolved(path), with: data)
    case S_IFCHR, S_IFIFO: try writeInPlace(path, data)
    case S_IFDIR: throw Failure(reason: "it is a folder")
    default: throw Failure(reason: "it is neither a regular file, a character device nor a pipe")
    }
  }

  /// Where a symbolic link to nothing yet points, through further such links, so that the write
  /// makes that file as a shell's `>` does; nil when `path` is no link (or the links loop).
  static func danglingTarget(_ path: String) -> String? {
    var current = path
    for _ in 0..<40 {
      guard let next = try? FileManager.default.destinationOfSymbolicLink(atPath: current) else { return current == path ? nil : current }
      current = next.hasPrefix("/") ? next : (current as NSString).deletingLastPathComponent + "/" + next
    }
    return nil
  }

  /// The path with every symbolic link followed (the file that a write should replace).
  static func resolved(_ path: String) -> String {
    guard let real = realpath(path, nil) else { return path }
    defer { free(real) }
    return String(cString: real)
  }

  private static func replace(_ path: String, with data: Data) throws(Failure) {
    do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch { throw Failure(reason: reason(error)) }
  }

  private static func writeInPlace(_ path: String, _ data: Data) throws(Failure) {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { throw Failure(reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    let failure: Int32? = data.withUnsafeBytes { raw in
      var done = 0
      while done < raw.count {
        let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return n < 0 ? errno : EIO }
        done += n
      }
      return nil
    }
    if let failure { throw Failure(reason: String(cString: strerror(failure))) }
  }

  /// A file error as a reason: the POSIX one in or under a Foundation error ("No space left on
  /// device"), else its description.
  public static func reason(_ error: any Error) -> String {
    if let failure = error as? Failure { return failure.reason }
    let e = error as NSError
    if let u = e.userInfo[NSUnderlyingErrorKey] as? NSError, u.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(u.code))) }
    if e.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(e.code))) }
    return e.localizedDescription
  }
}
