import FedSimCore
import Foundation
import Synchronization

/// The children of one point: started with their stderr in the run folder, watched through their
/// exit (termination handlers signal a condition; nothing polls), and stopped together.
final class Supervisor: Sendable {
  struct Exit: Sendable, Equatable {
    var status: Int32
    var signalled: Bool
    var succeeded: Bool { status == 0 && !signalled }
    var text: String { signalled ? "killed by signal \(status)" : "exit status \(status)" }
  }

  let folder: RunFolder
  let binaries: String
  let log: EventLog
  // Behind pthread mutexes, not Synchronization.Mutex: the termination handlers run on
  // Foundation's thread, and ThreadSanitizer cannot see Mutex's futex on Linux (it reported
  // these very accesses as races).
  private let exits = Locked<[String: Exit]>([:])
  private let children = Locked<[String: Process]>([:])
  private let changed = NSCondition()
  private let lifeline: (read: Int32, write: Int32)
  private let lock: RunLock?

  /// `lock`, if given, hears every child's pid.
  init(folder: RunFolder, binaries: String, lock: RunLock?) throws(FederationError) {
    (self.folder, self.binaries, self.lock) = (folder, binaries, lock)
    log = EventLog(path: folder.events("launcher"), role: "launcher")
    lifeline = try Lifeline.make()
  }

  deinit {
    close(lifeline.read)
    close(lifeline.write)
  }

  /// Starts `binary` as the child `name`; its standard output goes to `output` if given. With
  /// `via` (`srun` and its arguments), the binary runs through that command, on another node.
  func start(_ name: String, binary: String, _ arguments: [String], output: Pipe? = nil, via: [String] = []) throws(FederationError) {
    let path = binaries + "/" + binary
    guard FileManager.default.isExecutableFile(atPath: path) else {
      throw .failed("\(path) is not built: build every product first (swift build -c release)")
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: via.isEmpty ? path : "/usr/bin/env")
    p.arguments = via.isEmpty ? arguments : via + [path] + arguments
    _ = FileManager.default.createFile(atPath: folder.stderr(name), contents: nil)
    p.standardError = FileHandle(forWritingAtPath: folder.stderr(name)) ?? FileHandle.nullDevice
    p.standardOutput = output ?? FileHandle.nullDevice
    // Standard input is the lifeline: the child stops when this process ends, however it ends.
    p.standardInput = FileHandle(fileDescriptor: lifeline.read, closeOnDealloc: false)
    p.environment = ProcessInfo.processInfo.environment.merging([Lifeline.variable: "stdin"]) { $1 }
    p.terminationHandler = { [self] process in
      let exit = Exit(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal)
      exits.withLock { $0[name] = exit }
      changed.lock()
      changed.broadcast()
      changed.unlock()
    }
    do { try p.run() } catch { throw .failed("cannot start \(path): \(error.localizedDescription)") }
    children.withLock { $0[name] = p }
    try lock?.add(p.processIdentifier)
    log.log("started", ["process": name, "pid": Int(p.processIdentifier), "via": via.joined(separator: " ")])
  }

  /// How `name` exited, or nil while it runs.
  func exit(of name: String) -> Exit? { exits.withLock { $0[name] } }

  /// Waits until `done()` holds or `deadline` passes; woken by every child's exit and by `poke()`.
  func wait(until deadline: Date, for done: () -> Bool) -> Bool {
    changed.lock()
    defer { changed.unlock() }
    while !done() {
      if !changed.wait(until: deadline) { return done() }
    }
    return true
  }

  /// Wakes `wait` (for events other than exits, such as the server's first line).
  func poke() {
    changed.lock()
    changed.broadcast()
    changed.unlock()
  }

  /// The last line a child wrote to its stderr (the reason it gave for failing).
  func lastWords(_ name: String) -> String? {
    let text = (try? String(contentsOfFile: folder.stderr(name), encoding: .utf8)) ?? ""
    return text.split(separator: "\n").last.map(String.init)
  }

  /// Terminates every child still running (SIGTERM, then SIGKILL after a second).
  func stopAll() { stop(children.withLock { Array($0.keys) }) }

  /// Terminates the named children still running (SIGTERM, then SIGKILL after a second).
  func stop(_ names: [String]) {
    let running = children.withLock { $0 }.filter { names.contains($0.key) && exit(of: $0.key) == nil }
    for (_, p) in running { p.terminate() }
    _ = wait(until: Date().addingTimeInterval(1)) { running.keys.allSatisfy { exit(of: $0) != nil } }
    for (name, p) in running where exit(of: name) == nil { kill(p.processIdentifier, SIGKILL) }
  }
}
