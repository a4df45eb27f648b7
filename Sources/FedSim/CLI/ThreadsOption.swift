import ArgumentParser
import Foundation

/// The threads `bench` and `attack` compute on: `--threads`, else `OPENBLAS_NUM_THREADS`, else 1;
/// from 1 to four a core. More threads than that only slow each pass (at 64 on two cores one
/// ResNet-18 evaluation took three times as long), and a mistyped `--threads 100000` ran on for
/// minutes splitting every pass a hundred thousand ways.
enum ThreadsOption {
  static let perCore = 4

  /// The most threads this machine takes.
  static var limit: Int { perCore * Swift.max(1, ProcessInfo.processInfo.activeProcessorCount) }

  /// The threads to use, or a usage error naming where an out-of-range count came from.
  static func resolve(_ option: Int?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int {
    if let option { return try checked(option, "--threads") }
    guard let text = environment["OPENBLAS_NUM_THREADS"], !text.isEmpty else { return 1 }
    guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
      throw ValidationError("OPENBLAS_NUM_THREADS=\(text) is not a whole number of threads")
    }
    return try checked(value, "OPENBLAS_NUM_THREADS")
  }

  private static func checked(_ threads: Int, _ source: String) throws -> Int {
    if threads < 1 { throw ValidationError("\(source) must be at least 1 (it is \(threads))") }
    if threads > limit {
      let cores = ProcessInfo.processInfo.activeProcessorCount
      throw ValidationError("\(source) must be at most \(limit), \(perCore) a core on this machine's \(cores) (it is \(threads))")
    }
    return threads
  }
}
