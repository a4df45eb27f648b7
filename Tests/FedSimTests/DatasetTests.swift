import FedData
import FedSimCore
import FedSimKit
import FedServer
import FedClient
import AdversaryRole
import Tensors
import Foundation
import TestSupport
import Testing

/// What ../shared/data/README.md says of each file.
struct SharedDatasetFacts: Sendable, CustomTestStringConvertible {
  var path: String
  var count: Int
  var shape: [Int]
  var firstLabels: [Int]
  var classCounts: [Int]?
  var firstNames: [String]?
  var testDescription: String { path }
}

let sharedDatasets = [
  SharedDatasetFacts(
    path: "mnist/t10k-images-idx3-ubyte.gz", count: 10_000, shape: [1, 28, 28], firstLabels: [7, 2, 1, 0, 4, 1, 4, 9, 5, 9],
    classCounts: [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]),
  SharedDatasetFacts(
    path: "fashion-mnist/t10k-images-idx3-ubyte.gz", count: 4000, shape: [1, 28, 28],
    firstLabels: [9, 2, 1, 1, 6, 1, 4, 6, 5, 7], classCounts: [406, 395, 413, 396, 414, 384, 388, 414, 416, 374]),
  SharedDatasetFacts(
    path: "cifar-10/test_batch.bin", count: 1000, shape: [3, 32, 32], firstLabels: [3, 8, 8, 0, 6, 6, 1, 6, 3, 1],
    classCounts: [103, 89, 100, 103, 90, 86, 112, 102, 106, 109], firstNames: ["cat", "ship", "ship", "airplane"]),
  SharedDatasetFacts(
    path: "cifar-100/test.bin", count: 10_000, shape: [3, 32, 32], firstLabels: [49, 33, 72, 51, 71, 92, 15, 14, 23, 0],
    classCounts: [Int](repeating: 100, count: 100), firstNames: ["mountain", "forest", "seal", "mushroom", "sea"]),
]

@Suite("Datasets")
struct DatasetTests {
  @Test(
    "every shared dataset file reads with its README's counts", .enabled(if: SharedData.dataTestsEnabled, "../shared/data not found"),
    arguments: sharedDatasets)
  func readsSharedData(_ facts: SharedDatasetFacts) throws {
    let d = try ImageDataset.load(SharedData.dataDirectory + "/" + facts.path)
    #expect(d.count == facts.count)
    #expect(d.shape == facts.shape)
    #expect(Array(d.labels.prefix(10)) == facts.firstLabels)
    if let counts = facts.classCounts { #expect(d.classCounts == counts) }
    if let names = facts.firstNames { #expect(d.labels.prefix(names.count).map { d.classNames[$0] } == names) }
    let x = d.images([0, d.count - 1])
    #expect(x.shape == [2] + facts.shape)
    #expect(x.scalars.allSatisfy { $0 >= 0 && $0 <= 1 } && x.scalars.contains { $0 > 0.5 })
  }

  @Test("a folder with one dataset reads as that dataset", .enabled(if: SharedData.dataTestsEnabled))
  func folders() throws {
    #expect(try ImageDataset.load(SharedData.dataDirectory + "/mnist").count == 10_000)
    #expect(try ImageDataset.load(SharedData.dataDirectory + "/cifar-10").format == .cifar10)
  }

  /// A scratch copy of `bytes` under a given file name.
  func scratch(_ name: String, _ bytes: [UInt8]) throws -> String {
    let dir = URL(fileURLWithPath: TemporaryPath.make("fedsim-data"))
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent(name).path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  func expectError(_ path: String, containing words: String) {
    do {
      _ = try ImageDataset.load(path)
      Issue.record("\(path) was accepted")
    } catch {
      #expect(error.description.hasPrefix(path), "\(error)")
      #expect(error.description.contains(words), "\(error)")
    }
  }

  @Test("a device given as a dataset is an error saying so (Foundation's own says 'permission')")
  func deviceIsNoDataset() throws {
    expectError("/dev/null", containing: "not a regular file")
    let link = TemporaryPath.make("zero") + "-images-idx3-ubyte"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/dev/zero")
    defer { try? FileManager.default.removeItem(atPath: link) }
    expectError(link, containing: "not a regular file")
  }

  @Test("a gzip stream that decompresses past the limit is an error naming the file, not a memory blow-up")
  func decompressionLimit() throws {
    let dir = TemporaryPath.make("fedsim-inflate")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let zeros = try ImageFileFuzzTests.gzip([UInt8](repeating: 0, count: 3 << 20), in: dir)
    #expect(zeros.count < 10_000)
    #expect(try Inflate.decompress(zeros, path: "z.gz", limit: 3 << 20) == [UInt8](repeating: 0, count: 3 << 20))
    do {
      _ = try Inflate.decompress(zeros, path: "z.gz", limit: 1 << 20)
      Issue.record("decompressed past the limit")
    } catch {
      #expect(error.description.hasPrefix("z.gz") && error.description.contains("more than 1 MiB"), "\(error)")
    }
  }

  /// An IDX images file and its labels beside it, from their headers' dimensions and bodies.
  func idxPair(_ stem: String, images dims: [UInt32], pixels: Int, labels: Int) throws -> String {
    func header(_ rank: UInt8, _ dims: [UInt32]) -> [UInt8] {
      [0, 0, 8, rank] + dims.flatMap { d in (0..<4).map { UInt8(truncatingIfNeeded: d >> (24 - 8 * $0)) } }
    }
    let path = try scratch(stem + "-images-idx3-ubyte", header(3, dims) + [UInt8](repeating: 9, count: pixels))
    try Data(header(1, [UInt32(labels)]) + [UInt8](repeating: 1, count: labels)).write(
      to: URL(fileURLWithPath: path.replacingOccurrences(of: "images-idx3", with: "labels-idx1")))
    return path
  }

  @Test("IDX headers with images of no pixels, no images, or dimensions whose product overflows are errors, not crashes")
  func degenerateIDX() throws {
    #expect(try ImageDataset.load(try idxPair("fine", images: [2, 3, 3], pixels: 18, labels: 2)).shape == [1, 3, 3])
    // Zero rows: no pixel data is needed, so the header alone passed; a preview then sized a
    // grid from the other dimension (2³² − 1 columns: a 34 GB allocation).
    expectError(try idxPair("rows", images: [2, 0, .max], pixels: 0, labels: 2), containing: "0×4294967295 pixels")
    expectError(try idxPair("cols", images: [5, 28, 0], pixels: 0, labels: 5), containing: "at least one row and one column")
    // No images: a preview divided by its zero columns.
    expectError(try idxPair("none", images: [0, 28, 28], pixels: 0, labels: 0), containing: "holds no images")
    // (2³² − 1)³ bytes overflowed Int when the reader multiplied the dimensions.
    expectError(try idxPair("huge", images: [.max, .max, .max], pixels: 100, labels: 2), containing: "more than any file holds")
  }

  @Test("class names from a names file or from folder names reach the terminal without their escape sequences, cut short")
  func hostileClassNames() throws {
    let batch = try scratch("data_batch_1.bin", (0..<10).flatMap { [UInt8($0)] + [UInt8](repeating: 50, count: 3072) })
    let folder = URL(fileURLWithPath: batch).deletingLastPathComponent()
    let names = ["\u{1B}]0;owned\u{07}cat", "dog\u{1B}[2J", String(repeating: "a", count: 5000)] + (3..<10).map { "c\($0)" }
    try names.joined(separator: "\n").write(to: folder.appendingPathComponent("batches.meta.txt"), atomically: true, encoding: .utf8)
    let d = try ImageDataset.load(batch)
    #expect(d.classNames[0] == "\u{FFFD}]0;owned\u{FFFD}cat" && d.classNames[1] == "dog\u{FFFD}[2J")
    #expect(d.classNames[2] == String(repeating: "a", count: 80) + "…" && d.classNames[9] == "c9")

    let root = folder.appendingPathComponent("pictures")
    let png = try Data(contentsOf: URL(fileURLWithPath: ImageFileFuzzTests.fixtures + "/png/rgb.png"))
    for name in ["plain", "red\u{1B}[31m"] {
      try FileManager.default.createDirectory(at: root.appendingPathComponent(name), withIntermediateDirectories: true)
      try png.write(to: root.appendingPathComponent(name).appendingPathComponent("a.png"))
    }
    #expect(try ImageDataset.load(root.path).classNames == ["plain", "red\u{FFFD}[31m"])
  }

  @Test("truncated and corrupt files are errors naming the file and the fault", .enabled(if: SharedData.dataTestsEnabled))
  func brokenFiles() throws {
    let dir = SharedData.dataDirectory
    let gz = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/mnist/t10k-images-idx3-ubyte.gz")))
    let labels = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/mnist/t10k-labels-idx1-ubyte.gz")))

    let cut = try scratch("t10k-images-idx3-ubyte.gz", Array(gz.prefix(gz.count / 2)))
    try Data(labels).write(to: URL(fileURLWithPath: cut.replacingOccurrences(of: "images-idx3", with: "labels-idx1")))
    expectError(cut, containing: "ends early")

    var flipped = gz
    for i in 100..<140 { flipped[i] ^= 0x5A }
    let corrupt = try scratch("t10k-images-idx3-ubyte.gz", flipped)
    try Data(labels).write(to: URL(fileURLWithPath: corrupt.replacingOccurrences(of: "images-idx3", with: "labels-idx1")))
    expectError(corrupt, containing: "corrupt")

    // A raw IDX file whose header promises more images than it holds.
    var raw: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 28, 0, 0, 0, 28]
    raw += [UInt8](repeating: 7, count: 4 * 784)
    let short = try scratch("x-images-idx3-ubyte", raw)
    try Data([0, 0, 8, 1, 0, 0, 0, 5, 1, 2, 3, 4, 5]).write(
      to: URL(fileURLWithPath: short.replacingOccurrences(of: "images-idx3", with: "labels-idx1")))
    expectError(short, containing: "truncated")

    let cifar = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/cifar-10/test_batch.bin")))
    expectError(try scratch("test_batch.bin", Array(cifar.prefix(3073 * 3 + 100))), containing: "not a whole number of 3073-byte records")
    var badLabel = Array(cifar.prefix(3073 * 2))
    badLabel[3073] = 42
    expectError(try scratch("data_batch_1.bin", badLabel), containing: "record 1 has label 42")
    expectError(try scratch("notes.txt", [1, 2, 3]), containing: "not a dataset")
  }

  @Test func builtInShapesAreDeterministicAndBalanced() {
    let a = ImageDataset.shapes(count: 50, seed: 3)
    #expect(a.pixels == ImageDataset.shapes(count: 50, seed: 3).pixels)
    #expect(a.pixels != ImageDataset.shapes(count: 50, seed: 4).pixels)
    #expect(a.classCounts == [Int](repeating: 5, count: 10))
    #expect(a.shape == [3, 32, 32])
    // Every image has both a shape and a background: two clearly different colours.
    for i in 0..<a.count {
      let img = a.pixels[(i * a.imageSize)..<((i + 1) * a.imageSize)]
      #expect(Int(img.max()!) - Int(img.min()!) > 60)
    }
  }

  @Test("partitions give every image to exactly one client")
  func partitions() {
    let labels = (0..<1000).map { $0 % 10 }
    for p in [Partition.iid, .dirichlet(alpha: 0.1), .dirichlet(alpha: 100), .shards(perClient: 2)] {
      let parts = p.assign(labels: labels, clients: 8, seed: 1)
      #expect(parts.count == 8)
      #expect(parts.flatMap { $0 }.sorted() == Array(0..<1000), "\(p)")
    }
    let iid = Partition.iid.assign(labels: labels, clients: 8, seed: 1).map(\.count)
    #expect(iid.max()! - iid.min()! <= 1)
    // Shards: sorted by label, 16 shards of 62–63 images; a client sees at most 2–4 classes.
    for part in Partition.shards(perClient: 2).assign(labels: labels, clients: 8, seed: 1) {
      #expect(Set(part.map { labels[$0] }).count <= 4)
    }
    // Dirichlet: small α concentrates each client on few classes, large α spreads them evenly.
    func dominantShare(_ alpha: Double) -> Double {
      let parts = Partition.dirichlet(alpha: alpha).assign(labels: labels, clients: 8, seed: 2)
      return parts.filter { !$0.isEmpty }.map { part in
        var counts = [Int](repeating: 0, count: 10)
        for i in part { counts[labels[i]] += 1 }
        return Double(counts.max()!) / Double(part.count)
      }.reduce(0, +) / Double(parts.filter { !$0.isEmpty }.count)
    }
    #expect(dominantShare(0.05) > 0.5)
    #expect(dominantShare(1000) < 0.2)
  }

  @Test func pngIsValid() {
    let png = PNG.encode(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 0, 0, 255])
    #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    #expect(Array(png[12..<16]) == Array("IHDR".utf8))
    #expect(Array(png[16..<24]) == [0, 0, 0, 2, 0, 0, 0, 1])
    #expect(Array(png.suffix(8)) == [0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])  // IEND + its CRC
  }
}

@Suite("Image transforms against torchvision")
struct TransformTests {
  let file = try! SafetensorsFile(contentsOf: SharedData.repositoryRoot + "/Tests/Fixtures/transforms.safetensors")

  @Test func resizeShorterSideAndCenterCrop() throws {
    let x = try file.tensor("input")
    #expect(relativeError(ImageTransform(resize: 20)(x), try file.tensor("resize_short_side.20")) < 1e-5)
    #expect(relativeError(ImageTransform(centerCrop: 9)(x), try file.tensor("center_crop.9")) < 1e-6)
    #expect(relativeError(ImageTransform(centerCrop: 16)(x), try file.tensor("center_crop.16")) < 1e-6)
    let normalized = ImageTransform(mean: [0.5, 0.25], std: [2, 4])(x)
    #expect(abs(normalized.scalars[0] - (x.scalars[0] - 0.5) / 2) < 1e-6)
  }
}
