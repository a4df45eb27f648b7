import Adversary
import FedData
import FedSimCore
import FedSimKit
import Foundation
import Tensors
import TestSupport
import Testing

/// Mutated update files (header fields, shapes, offsets, dtypes, metadata, NaN payloads, byte
/// flips, truncation) read as `fedsim attack` reads them and, when accepted, attacked and
/// scored: a clear error naming the file, or a finished attack; never a crash or a hang.
@Suite("Fuzzing: update files")
struct UpdateFileFuzzTests {
  /// A real update (LeNet on two shapes images), as bytes.
  static func base() throws -> [UInt8] {
    let shapes = ImageDataset.shapes(count: 4)
    let spec = ModelSpec(name: "lenet", channels: 3, imageSize: 32, classes: shapes.classes)
    var generator = SeededGenerator(seed: 1)
    let model = try ModelZoo.make(spec, generator: &generator)
    let update = RecordedUpdate(spec: spec, model: model, input: shapes.images([0, 1]), labels: shapes.labels([0, 1]))
    let path = TemporaryPath.make("fedsim-fuzz-base", suffix: ".safetensors")
    try update.write(to: path)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
  }

  /// The file split into its header (a JSON object) and its data.
  static func split(_ bytes: [UInt8]) -> ([String: Any], [UInt8]) {
    guard bytes.count >= 8 else { return ([:], []) }
    var n = 0
    for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
    guard n >= 0, n <= bytes.count - 8 else { return ([:], []) }
    let header = (try? JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)]))) as? [String: Any] ?? [:]
    return (header, Array(bytes[(8 + n)...]))
  }

  static func join(_ header: [String: Any], _ data: [UInt8]) -> [UInt8] {
    let json = (try? JSONSerialization.data(withJSONObject: header)) ?? Data()
    return (0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) } + Array(json) + data
  }

  /// One mutant of `base`.
  static func mutant(_ base: [UInt8], _ fuzz: inout Fuzz) -> [UInt8] {
    var (header, data) = split(base)
    let names = header.keys.filter { $0 != "__metadata__" }.sorted()
    guard !names.isEmpty else { return base }  // already beyond repair: keep it
    let name = fuzz.pick(names)
    var entry = header[name] as? [String: Any] ?? [:]
    switch fuzz.int(0..<10) {
    case 0:  // a metadata value
      var meta = header["__metadata__"] as? [String: Any] ?? [:]
      meta[fuzz.pick(["model", "classes", "channels", "size", "batch", "activation", "x"])] =
        fuzz.chance(0.8) ? fuzz.pick(Fuzz.hostileScalars) : fuzz.pick(Fuzz.hostileJSONNumbers)
      header["__metadata__"] = meta
    case 1:  // a shape
      entry["shape"] = fuzz.pick([[1 << 40, 1 << 40], [-1], [0], [1 << 62, 4], [], [2, 3, 32, 32], [Int.max], [1, 1, 1, 1, 1, 1, 1, 1]] as [[Int]])
    case 2: entry["shape"] = fuzz.pick(Fuzz.hostileJSONNumbers)
    case 3:  // offsets
      let offsets = entry["data_offsets"] as? [Int] ?? [0, 0]
      entry["data_offsets"] = fuzz.pick([[offsets[0], offsets[1] + 4], [-4, offsets[1]], [0, Int.max], [offsets[1], offsets[0]], [0, 0]] as [[Int]])
    case 4: entry["dtype"] = fuzz.pick(["F16", "BF16", "F64", "I64", "U8", "X", ""])
    case 5: header[name] = nil
    case 6:  // NaN or infinity written into a tensor's data
      if let offsets = entry["data_offsets"] as? [Int], offsets.count == 2, offsets[0] >= 0, offsets[1] <= data.count, offsets[1] - offsets[0] >= 4 {
        let at = offsets[0] + 4 * fuzz.int(0..<((offsets[1] - offsets[0]) / 4))
        let bits = fuzz.pick([Float.nan.bitPattern, Float.infinity.bitPattern, Float(1e38).bitPattern])
        for k in 0..<4 { data[at + k] = UInt8(truncatingIfNeeded: bits >> (8 * UInt32(k))) }
      }
    case 7:  // a byte of the whole file flipped, or the file cut short
      var bytes = join(header, data)
      if fuzz.chance(0.5) { bytes[fuzz.int(0..<bytes.count)] ^= UInt8(1 << fuzz.int(0..<8)) } else { bytes = Array(bytes.prefix(fuzz.int(0..<bytes.count))) }
      return bytes
    case 8:  // the header length lies
      var bytes = join(header, data)
      let lie = fuzz.pick([0, 1, bytes.count, Int(Int32.max), Int.max / 2])
      for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: lie >> (8 * i)) }
      return bytes
    default:  // a gradient renamed or a stray tensor
      header["grad.x" + name] = entry
    }
    if header[name] != nil, !entry.isEmpty { header[name] = entry }
    return join(header, data)
  }

  enum Outcome: Sendable {
    case rejected(String)
    case attacked(Double?)
  }

  static func attempt(_ path: String) -> Outcome {
    do {
      let update = try RecordedUpdate(contentsOf: path)
      let configuration = AttackConfiguration(method: .idlg, iterations: 1, restarts: 1, seed: 0)
      let (metrics, _, _) = try AttackRun.run(update: update, configuration: configuration)
      return .attacked(metrics.psnr)
    } catch {
      return .rejected("\(error)")
    }
  }

  @Test("mutated update files: rejected naming the file, or attacked and scored; never a crash or a hang")
  func mutants() throws {
    let base = try Self.base()
    var fuzz = Fuzz(seed: 5)
    let cases = Fuzz.cases(200)
    var (rejected, attacked, hangs) = (0, 0, 0)
    let dir = TemporaryPath.make("fedsim-fuzz")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for n in 0..<cases {
      let path = dir + "/case-\(n).safetensors"
      var bytes = Self.mutant(base, &fuzz)
      if fuzz.chance(0.3) { bytes = Self.mutant(bytes, &fuzz) }
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      guard let outcome = bounded(seconds: 60, { Self.attempt(path) }) else {
        hangs += 1
        Issue.record("case \(n) hangs: \(path) kept")
        break
      }
      switch outcome {
      case .rejected(let why):
        rejected += 1
        #expect(why.contains(path), "case \(n): \(why)")
        // The file's text is quoted short and without control characters.
        #expect(why.count <= 1_000 && !why.unicodeScalars.contains { $0.value < 0x20 }, "case \(n): \(why.prefix(300))")
      case .attacked(let psnr):
        attacked += 1
        #expect(psnr.map { !$0.isNaN } ?? true, "case \(n): NaN PSNR")
      }
      try? FileManager.default.removeItem(atPath: path)
    }
    #expect(rejected > cases / 2 && attacked > 0, "rejected \(rejected), attacked \(attacked) of \(cases)")
    print("update-file fuzz: \(cases) cases, \(rejected) rejected, \(attacked) attacked, \(hangs) hangs")
  }
}
