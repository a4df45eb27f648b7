import FedData
import Foundation
import Tensors
import TestSupport
import Testing

@Suite("JPEG decoding (libjpeg-turbo) and JPEG pictures and folders")
struct JPEGTests {
  static let dir = SharedData.repositoryRoot + "/Tests/Fixtures/jpeg"

  @Test(
    "Pillow's JPEGs decode to the pixels Pillow decodes",
    arguments: ["rgb-420", "rgb-444", "progressive", "gray"])
  func decodesPillow(_ name: String) throws {
    let expected = try SafetensorsFile(contentsOf: Self.dir + "/expected.safetensors").tensor(name)
    let image = try ImageFile.read(Self.dir + "/\(name).jpg")
    #expect([image.channels, image.height, image.width] == expected.shape)
    let worst = zip(image.pixels, expected.scalars).map { abs(Float($0) - $1) }.max() ?? .infinity
    #expect(worst == 0, "\(name): largest difference from Pillow \(worst)")
  }

  @Test("broken, CMYK and unknown files are errors naming the file and the fault")
  func brokenFiles() throws {
    let good = Array(try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/rgb-420.jpg")))
    let cmyk = Array(try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/cmyk.jpg")))
    var huge = good
    let sof = try #require((2..<(good.count - 9)).first { good[$0] == 0xFF && good[$0 + 1] == 0xC0 })
    (huge[sof + 5], huge[sof + 6], huge[sof + 7], huge[sof + 8]) = (0x9C, 0x40, 0x9C, 0x40)  // 40000×40000
    let cases: [([UInt8], String)] = [
      (Array(good.prefix(good.count / 2)), "JPEG"), (Array(good.prefix(200)), "JPEG"), (cmyk, "CMYK"),
      (huge, "larger than FedSim reads"), ([0xFF, 0xD8, 0xFF, 0xE0], "JPEG"), ([1, 2, 3, 4, 5], "neither a PNG nor a JPEG"),
    ]
    for (bytes, words) in cases {
      #expect {
        try ImageFile.decode(bytes, path: "x.jpg")
      } throws: { error in
        let text = "\(error)"
        return text.hasPrefix("x.jpg:") && text.contains(words)
      }
    }
    #expect(throws: DatasetError.self) { try ImageFile.read(Self.dir + "/missing.jpg") }
    #expect(throws: DatasetError.self) { try ImageFile.read(Self.dir) }
  }

  @Test("a JPEG picture is a one-image dataset at the asked size; a class folder may hold JPEGs")
  func pictureAndFolder() throws {
    let picture = try ImageDataset.picture(Self.dir + "/rgb-444.jpg", size: 16)
    #expect(picture.shape == [3, 16, 16] && picture.count == 1)
    let root = TemporaryPath.make("fedsim-jpeg")
    defer { try? FileManager.default.removeItem(atPath: root) }
    for name in ["cat", "dog"] {
      try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
      for (i, file) in ["rgb-420.jpg", "progressive.jpg"].enumerated() {
        try FileManager.default.copyItem(atPath: Self.dir + "/" + file, toPath: "\(root)/\(name)/\(i).JPG")
      }
    }
    let folder = try ImageDataset.load(root)
    #expect(folder.classNames == ["cat", "dog"] && folder.labels == [0, 0, 1, 1] && folder.shape == [3, 19, 23])
    let expected = try SafetensorsFile(contentsOf: Self.dir + "/expected.safetensors").tensor("progressive")
    #expect(Array(folder.pixels[(3 * 19 * 23)..<(2 * 3 * 19 * 23)]).map(Float.init) == expected.scalars)
  }
}
