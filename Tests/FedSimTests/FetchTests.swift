import FedData
import FedSimCore
import FedSimKit
import FedServer
import FedClient
import AdversaryRole
import Foundation
import TestSupport
import Testing

/// A real HTTP server on loopback (Python's http.server) serving one folder, stopped on deinit.
final class LoopbackServer: @unchecked Sendable {
  let process = Process()
  let port: Int

  init(serving folder: String) throws {
    let portFile = TemporaryPath.make("fedsim-port")
    let script = """
      import functools, http.server, sys
      handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
      server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
      open(sys.argv[2] + ".tmp", "w").write(str(server.server_address[1]))
      __import__("os").rename(sys.argv[2] + ".tmp", sys.argv[2])
      server.serve_forever()
      """
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script, folder, portFile]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    var found: Int?
    for _ in 0..<200 where found == nil {  // at most 10 s
      found = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) }
      if found == nil { usleep(50_000) }
    }
    try? FileManager.default.removeItem(atPath: portFile)
    guard let found else {
      process.terminate()
      throw CocoaError(.fileReadUnknown)
    }
    port = found
  }

  var base: String { "http://127.0.0.1:\(port)/" }

  func stop() {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
  }

  deinit { stop() }
}

/// Runs blocking work (a download) on a thread of its own, never on Swift's cooperative pool.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    Thread { continuation.resume(with: Result { try body() }) }.start()
  }
}

@Suite("fedsim data fetch", .serialized)
struct FetchTests {
  func scratch() -> String {
    TemporaryPath.make("fedsim-fetch")
  }

  @Test func md5KnownValues() throws {
    #expect(MD5Check.hex("") == "d41d8cd98f00b204e9800998ecf8427e")
    #expect(MD5Check.hex("abc") == "900150983cd24fb0d6963f7d28e17f72")
    #expect(MD5Check.hex(String(repeating: "a", count: 1000)) == "cabe45dcc9ae5b66ba86600cca6b8ba8")
  }

  @Test("fetches MNIST's test split from a loopback server and checks it", .enabled(if: SharedData.dataTestsEnabled))
  func fetchesFromLoopback() async throws {
    let server = try LoopbackServer(serving: SharedData.dataDirectory + "/mnist")
    let dir = scratch()
    let base = server.base
    let files = try await offPool { try DatasetFetcher.fetch("mnist", split: "test", mirror: base, to: dir) }
    #expect(files.map { URL(fileURLWithPath: $0).lastPathComponent }.sorted() == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"])
    let d = try ImageDataset.load(dir)
    #expect(d.count == 10_000 && Array(d.labels.prefix(3)) == [7, 2, 1])
  }

  @Test("a file whose checksum differs is refused and not kept", .enabled(if: SharedData.dataTestsEnabled))
  func refusesBadChecksum() async throws {
    // The shared Fashion-MNIST images file is a 4,000-image subset, not the published file.
    let server = try LoopbackServer(serving: SharedData.dataDirectory + "/fashion-mnist")
    let dir = scratch()
    let base = server.base
    await #expect { try await offPool { try DatasetFetcher.fetch("fashion-mnist", split: "test", mirror: base, to: dir) } } throws: { error in
      guard case .checksum(let file, let expected, _) = error as? FetchError else { return false }
      return file.hasSuffix("t10k-images-idx3-ubyte.gz") && expected == "bef4ecab320f06d8554ea6380940ec79"
    }
    #expect(!FileManager.default.fileExists(atPath: dir + "/t10k-images-idx3-ubyte.gz"))
  }

  @Test("a missing file and a dead server are errors naming the address", .enabled(if: SharedData.dataTestsEnabled))
  func downloadErrors() async throws {
    let server = try LoopbackServer(serving: SharedData.dataDirectory + "/mnist")
    let dir = scratch()
    let base = server.base
    await #expect { try await offPool { try DatasetFetcher.fetch("svhn", split: "test", mirror: base, to: dir) } } throws: {
      "\($0)".contains("test_32x32.mat") && "\($0)".contains("404")
    }
    let port = server.port
    server.stop()
    usleep(200_000)
    await #expect { try await offPool { try DatasetFetcher.fetch("svhn", split: "test", mirror: "http://127.0.0.1:\(port)/", to: dir) } } throws: {
      "\($0)".contains("127.0.0.1:\(port)") && "\($0)".contains("download failed")
    }
    #expect(throws: FetchError.unknownDataset("imagenet")) { try DatasetFetcher.fetch("imagenet", to: scratch()) }
  }

  @Test("tar.gz archives unpack, and unsafe paths are refused")
  func unpacksArchives() throws {
    let work = scratch()
    try FileManager.default.createDirectory(atPath: work + "/src/inner", withIntermediateDirectories: true)
    try Data("hello".utf8).write(to: URL(fileURLWithPath: work + "/src/inner/a.txt"))
    let tar = Process()
    tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    tar.arguments = ["tar", "czf", work + "/x.tar.gz", "-C", work + "/src", "inner"]
    try tar.run()
    tar.waitUntilExit()
    let files = try ArchiveCheck.unpack(work + "/x.tar.gz", into: work + "/out")
    #expect(files == [work + "/out/inner/a.txt"])
    #expect(try String(contentsOfFile: work + "/out/inner/a.txt", encoding: .utf8) == "hello")

    let evil = Process()
    evil.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    evil.arguments = ["python3", "-c", "import tarfile,io;t=tarfile.open('\(work)/evil.tar.gz','w:gz');i=tarfile.TarInfo('../evil.txt');i.size=1;t.addfile(i,io.BytesIO(b'x'));t.close()"]
    try evil.run()
    evil.waitUntilExit()
    #expect { try ArchiveCheck.unpack(work + "/evil.tar.gz", into: work + "/out") } throws: { "\($0)".contains("unsafe path") }
    #expect(!FileManager.default.fileExists(atPath: work + "/evil.txt"))
  }
}
