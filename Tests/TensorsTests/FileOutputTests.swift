import Foundation
import TestSupport
import Testing

@testable import Tensors

@Suite("Writing output files where a person points")
struct FileOutputTests {
  let dir = TemporaryPath.make("fedsim-output")

  init() throws { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }

  func contents(_ path: String) -> String? { FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } }

  @Test("a regular file is replaced whole; through a symbolic link, the file it points to is replaced or made (the link stays)")
  func throughLinks() throws {
    let (file, link) = (dir + "/a.txt", dir + "/link.txt")
    try FileOutput.write(Data("old".utf8), to: file)
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: file)
    try FileOutput.write(Data("new".utf8), to: link)
    #expect(contents(file) == "new")
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == file)
    // A link to a file not made yet, relative, through a second link: the file is made there.
    let (first, second) = (dir + "/first.txt", dir + "/second.txt")
    try FileManager.default.createSymbolicLink(atPath: first, withDestinationPath: "second.txt")
    try FileManager.default.createSymbolicLink(atPath: second, withDestinationPath: "made.txt")
    try FileOutput.write(Data("made".utf8), to: first)
    #expect(contents(dir + "/made.txt") == "made")
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: first) == "second.txt")
  }

  /// A character device node of our own in the test's folder (major 1: /dev/full is 7, /dev/null
  /// 3), so that a regression renames over it rather than over the system's.
  func device(_ name: String, minor: UInt32) -> String {
    let path = dir + "/" + name
    #expect(mknod(path, S_IFCHR | 0o666, dev_t(1 << 8 | minor)) == 0, "mknod \(path): \(String(cString: strerror(errno)))")
    return path
  }

  @Test(
    "a character device is written in place, not renamed over: a full one says it is full and stays a device",
    .enabled(if: getuid() == 0, "making device nodes needs root (CI runs as root)"))
  func devices() throws {
    let full = device("full", minor: 7)
    #expect(throws: FileOutput.Failure(reason: String(cString: strerror(ENOSPC)))) { try FileOutput.write(Data("x".utf8), to: full) }
    var info = stat()
    #expect(stat(full, &info) == 0 && info.st_mode & S_IFMT == S_IFCHR)
    let null = device("null", minor: 3)
    try FileOutput.write(Data("x".utf8), to: null)
    #expect(stat(null, &info) == 0 && info.st_mode & S_IFMT == S_IFCHR)
  }

  @Test("a folder is refused, saying so")
  func folder() {
    #expect(throws: FileOutput.Failure(reason: "it is a folder")) { try FileOutput.write(Data("x".utf8), to: dir) }
  }

  @Test("a pipe is written in place: its reader gets every byte, and the pipe stays a pipe")
  func pipe() throws {
    let fifo = dir + "/fifo"
    #expect(mkfifo(fifo, 0o600) == 0)
    let bytes = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 7) })  // more than a pipe's buffer
    let read = Thread.detachNewThreadAndWait(seconds: 30) { FileHandle(forReadingAtPath: fifo)?.readDataToEndOfFile() }
    try FileOutput.write(bytes, to: fifo)
    #expect(read.value() == bytes)
    var info = stat()
    #expect(stat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO)
  }
}

/// A value made on a thread of its own, waited for at most some seconds (nil after that).
private final class Pending<T>: @unchecked Sendable {
  private var result: T?
  private let done = DispatchSemaphore(value: 0)
  private let seconds: Double

  init(seconds: Double) { self.seconds = seconds }
  func set(_ value: T?) {
    result = value
    done.signal()
  }
  func value() -> T? { done.wait(timeout: .now() + seconds) == .success ? result : nil }
}

extension Thread {
  fileprivate static func detachNewThreadAndWait<T>(seconds: Double, _ body: @escaping @Sendable () -> T?) -> Pending<T> {
    let pending = Pending<T>(seconds: seconds)
    Thread.detachNewThread { pending.set(body()) }
    return pending
  }
}
