import Foundation
import Tensors

/// What the fuzzers share: a seeded source of choices (each case is reproducible from its seed
/// and number; `FEDSIM_FUZZ_SEED` explores others), case counts (`FEDSIM_FUZZ_CASES` scales them up outside CI), and a bound on the
/// time each case may take.
struct Fuzz {
  var random: SeededGenerator

  /// `FEDSIM_FUZZ_SEED`, when set, replaces `seed` (to explore beyond the cases CI runs).
  init(seed: UInt64) {
    random = SeededGenerator(seed: ProcessInfo.processInfo.environment["FEDSIM_FUZZ_SEED"].flatMap(UInt64.init) ?? seed)
  }

  /// The number of cases to run: `base` unless `FEDSIM_FUZZ_CASES` says otherwise.
  static func cases(_ base: Int) -> Int {
    ProcessInfo.processInfo.environment["FEDSIM_FUZZ_CASES"].flatMap(Int.init) ?? base
  }

  mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &random) }
  mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &random) < p }
  mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }
  mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) } }

  /// Numbers and texts that have broken parsers before: limits, overflows, non-finite values,
  /// wrong types, paths out of the folder, control characters.
  static let hostileScalars: [String] = [
    "0", "-1", "-2", "1", "2", "1.5", "0.0000001", "1e999", "-1e999", ".nan", ".inf", "-.inf", "1e18", "1e300",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "4294967296", "100000000",
    "''", "x", "../../x", "/", "[]", "{}", "null", "~", "true", "shapes", "[0, 1e999]", "[-1]", "[1, 2, 3]",
    "{a: 1}", "'\\u0000'", "\"\\u0000\"", String(repeating: "9", count: 400), String(repeating: "x", count: 300),
    // A terminal's escape sequence (setting the window title) in a long value.
    "\u{1B}]0;owned\u{07}" + String(repeating: "z", count: 3000),
  ]

  /// Numbers as JSON values (for headers), including ones no Int holds.
  static var hostileJSONNumbers: [Any] {
    [
    0, -1, -2, 1, 2, 3, 1.5, 1e300, -1e300, Int.max, Int.min, Int64(Int32.max) + 1, 1 << 40, 100_000_000, "7", NSNull(), [1], ["a": 1],
    ]
  }
}

/// Runs `body` on its own thread and waits at most `seconds`: nil when it did not finish (a
/// hang; the thread is left behind, and the caller records it).
func bounded<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () -> T) -> T? {
  let box = BoundedBox<T>()
  let done = DispatchSemaphore(value: 0)
  let thread = Thread {
    box.value = body()
    done.signal()
  }
  thread.stackSize = 8 << 20  // as a process's main thread
  thread.start()
  guard done.wait(timeout: .now() + seconds) == .success else { return nil }
  return box.value
}

/// The result of a `bounded` body.
// Unchecked: written once by the worker before it signals, read only after the signal.
private final class BoundedBox<T>: @unchecked Sendable {
  var value: T?
}
