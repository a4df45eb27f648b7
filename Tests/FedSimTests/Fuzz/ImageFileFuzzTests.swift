import FedData
import Foundation
import TestSupport
import Testing

/// Mutated image and dataset files (Pillow's PNGs, some with their chunk CRCs made right again, of
/// every colour type, Pillow's JPEGs, some with hostile frame sizes, SciPy's SVHN .mat files, a
/// gzip stream, MNIST-style IDX pairs, some with hostile dimensions) through FedSim's decoders: a
/// clear error naming the file, or a decoded image; never a crash or a hang.
@Suite("Fuzzing: PNG, JPEG, .mat, gzip and IDX files")
struct ImageFileFuzzTests {
  static let fixtures = SharedData.repositoryRoot + "/Tests/Fixtures"
  static let bases = ["png/rgb.png", "png/rgba.png", "png/palette.png", "png/gray16.png", "png/gray-alpha.png", "svhn/test_32x32.mat", "svhn/uncompressed_32x32.mat",
    "jpeg/rgb-420.jpg", "jpeg/progressive.jpg", "jpeg/gray.jpg"]

  /// One to four byte edits: flips, runs of a byte, a cut, a splice of the file into itself.
  static func mutant(_ base: [UInt8], _ fuzz: inout Fuzz) -> [UInt8] {
    var bytes = base
    for _ in 0..<fuzz.int(1..<5) where !bytes.isEmpty {
      let at = fuzz.int(0..<bytes.count)
      switch fuzz.int(0..<5) {
      case 0: bytes[at] ^= UInt8(1 << fuzz.int(0..<8))
      case 1: for i in at..<min(bytes.count, at + fuzz.int(1..<9)) { bytes[i] = fuzz.pick([0x00, 0xFF, 0x7F, 0x80]) }
      case 2: bytes = Array(bytes.prefix(at))
      case 3: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + fuzz.int(1..<64))], at: fuzz.int(0..<bytes.count))
      default: bytes.removeSubrange(at..<min(bytes.count, at + fuzz.int(1..<16)))
      }
    }
    return bytes
  }

  /// A PNG with one chunk's data edited and its CRC made right again, so the decoder gets past
  /// the checksum: IHDR fields (width, height, depth, colour type) set to hostile values, or
  /// bytes of any chunk (IDAT's zlib stream included) changed.
  static func pngMutant(_ base: [UInt8], _ fuzz: inout Fuzz) -> [UInt8] {
    var chunks: [(type: [UInt8], data: [UInt8])] = []
    var i = 8
    while i + 12 <= base.count {
      let n = Int(base[i]) << 24 | Int(base[i + 1]) << 16 | Int(base[i + 2]) << 8 | Int(base[i + 3])
      guard i + 12 + n <= base.count else { break }
      chunks.append((Array(base[(i + 4)..<(i + 8)]), Array(base[(i + 8)..<(i + 8 + n)])))
      i += 12 + n
    }
    guard !chunks.isEmpty else { return base }
    let k = fuzz.chance(0.5) ? 0 : fuzz.int(0..<chunks.count)
    var data = chunks[k].data
    if k == 0, data.count == 13, fuzz.chance(0.7) {
      let field = fuzz.pick([0, 4, 8, 9, 10, 11, 12])
      if field < 8 {
        let v = fuzz.pick([0, 1, 0x7FFF_FFFF, 0xFFFF_FFFF, 65_536, 1 << 20, 3])
        for b in 0..<4 { data[field + b] = UInt8(truncatingIfNeeded: v >> (8 * (3 - b))) }
      } else {
        data[field] = fuzz.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 255])
      }
    } else if !data.isEmpty {
      for _ in 0..<fuzz.int(1..<4) { data[fuzz.int(0..<data.count)] = UInt8.random(in: 0...255, using: &fuzz.random) }
    }
    chunks[k].data = data
    var out = Array(base[0..<8])
    for (type, data) in chunks {
      let n = data.count
      out += [UInt8(truncatingIfNeeded: n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
      let crc = crc32(type + data)
      out += type + data + [UInt8(crc >> 24), UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 8), UInt8(truncatingIfNeeded: crc)]
    }
    return out
  }

  /// A JPEG whose start-of-frame gives a hostile height or width (0, 1, 65535) or component count.
  static func jpegMutant(_ base: [UInt8], _ fuzz: inout Fuzz) -> [UInt8] {
    var bytes = base
    guard let sof = (2..<(bytes.count - 9)).first(where: { bytes[$0] == 0xFF && [0xC0, 0xC1, 0xC2].contains(bytes[$0 + 1]) }) else {
      return bytes
    }
    let field = fuzz.pick([5, 7, 9])  // height, width (two bytes each), components
    if field == 9 {
      bytes[sof + 9] = fuzz.pick([0, 2, 4, 255])
    } else {
      let v = fuzz.pick([0, 1, 0xFFFF, 0x8000])
      (bytes[sof + field], bytes[sof + field + 1]) = (UInt8(v >> 8), UInt8(v & 0xFF))
    }
    return bytes
  }

  /// An IDX images file (3 images of 4×4) or its labels file, as MNIST's are laid out.
  static func idx(labels: Bool) -> [UInt8] {
    labels ? [0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3] : [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 4] + (0..<48).map { UInt8($0 * 5) }
  }

  /// An IDX file with one header dimension set to a hostile value (0, 1, 2, 2³¹, 2³² − 1, 65,536).
  static func idxMutant(_ base: [UInt8], _ fuzz: inout Fuzz) -> [UInt8] {
    var bytes = base
    let at = 4 + 4 * fuzz.int(0..<Int(bytes[3]))
    let v: UInt32 = fuzz.pick([0, 1, 0x8000_0000, 0xFFFF_FFFF, 65_536, 2])
    for b in 0..<4 { bytes[at + b] = UInt8(truncatingIfNeeded: v >> (24 - 8 * b)) }
    return bytes
  }

  static func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
      c ^= UInt32(b)
      for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    return c ^ 0xFFFF_FFFF
  }

  enum Outcome: Sendable {
    case error(String)
    case read
  }

  static func attempt(_ path: String, _ bytes: [UInt8]) -> Outcome {
    do {
      if path.hasSuffix(".jpg") {
        _ = try ImageFile.decode(bytes, path: path)
      } else if path.hasSuffix(".png") {
        _ = try PNG.decode(bytes, path: path)
        _ = try PNG.decodeAnimation(bytes, path: path)
      } else if path.hasSuffix(".gz") {
        _ = try Inflate.decompress(bytes, path: path)
      } else {  // a dataset, read and previewed as `fedsim data preview` does
        let d = try ImageDataset.load(path)
        var grid = ImageGrid(channels: d.channels, height: d.height, width: d.width, columns: min(4, d.count))
        for i in 0..<min(4, d.count) { grid.append(Array(d.pixels[(i * d.imageSize)..<((i + 1) * d.imageSize)])) }
        _ = grid.pixels()
      }
      return .read
    } catch {
      return .error(error.description)
    }
  }

  @Test("mutated PNG, JPEG, .mat, gzip and IDX files: errors naming the file, or images; never a crash or a hang")
  func mutants() throws {
    var fuzz = Fuzz(seed: 23)
    let cases = Fuzz.cases(400)
    let dir = TemporaryPath.make("fedsim-fuzz-img")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var originals = try Self.bases.map { ($0, Array(try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/" + $0)))) }
    // A gzip stream of a PNG (Inflate is also what reads MNIST's .gz files).
    originals.append(("x.gz", try Self.gzip(originals[0].1, in: dir)))
    // An MNIST-style pair: one of the two files mutated, the other beside it intact.
    originals += [("x-images-idx3-ubyte", Self.idx(labels: false)), ("x-labels-idx1-ubyte", Self.idx(labels: true))]
    var (errors, decoded) = (0, 0)
    for n in 0..<cases {
      let (name, base) = fuzz.pick(originals)
      let isIDX = name.contains("-idx")
      let bytes =
        name.hasSuffix(".png") && fuzz.chance(0.6)
        ? Self.pngMutant(base, &fuzz) : name.hasSuffix(".jpg") && fuzz.chance(0.3) ? Self.jpegMutant(base, &fuzz)
        : isIDX && fuzz.chance(0.5) ? Self.idxMutant(base, &fuzz) : Self.mutant(base, &fuzz)
      let path = dir + "/case-\(n)-" + (name as NSString).lastPathComponent  // the mutated file
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      if isIDX {  // the other file of the pair beside it; the images file is the one read
        let other = name.contains("images") ? ("images-idx3", "labels-idx1") : ("labels-idx1", "images-idx3")
        try Data(Self.idx(labels: name.contains("images"))).write(
          to: URL(fileURLWithPath: path.replacingOccurrences(of: other.0, with: other.1)))
      }
      let read = path.replacingOccurrences(of: "labels-idx1", with: "images-idx3")
      guard let outcome = bounded(seconds: 30, { Self.attempt(read, bytes) }) else {
        Issue.record("case \(n) hangs: \(path) kept")
        return
      }
      switch outcome {
      case .error(let why):
        errors += 1
        #expect(why.contains(path), "case \(n): \(why)")
        #expect(why.count <= 1_000 && !why.unicodeScalars.contains { $0.value < 0x20 }, "case \(n): \(why.prefix(300))")
      case .read: decoded += 1
      }
      for file in Set([path, read, read.replacingOccurrences(of: "images-idx3", with: "labels-idx1")]) {
        try? FileManager.default.removeItem(atPath: file)
      }
    }
    #expect(errors > cases / 3, "errors \(errors), read \(decoded) of \(cases)")
    print("image-file fuzz: \(cases) cases, \(errors) errors, \(decoded) read, 0 hangs")
  }

  /// `bytes` gzipped by the system's gzip (an independent encoder).
  static func gzip(_ bytes: [UInt8], in dir: String) throws -> [UInt8] {
    let path = dir + "/base"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/gzip")
    p.arguments = ["-kf", path]
    try p.run()
    p.waitUntilExit()
    return Array(try Data(contentsOf: URL(fileURLWithPath: path + ".gz")))
  }
}
