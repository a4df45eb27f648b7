import FedData
import FedSimCore
import FedSimKit
import FedServer
import FedClient
import AdversaryRole
import Foundation
import Tensors
import TestSupport
import Testing

@Suite("PNG decoding and PNG-folder datasets")
struct PNGTests {
  static let dir = SharedData.repositoryRoot + "/Tests/Fixtures/png"

  @Test(
    "Pillow's PNGs decode to the pixels Pillow wrote",
    arguments: ["gray", "rgb", "rgba", "gray-alpha", "palette", "palette-2bit", "gray16"])
  func decodesPillow(_ name: String) throws {
    let expected = try SafetensorsFile(contentsOf: Self.dir + "/expected.safetensors").tensor(name)
    let image = try PNG.read(Self.dir + "/\(name).png")
    #expect([image.channels, image.height, image.width] == expected.shape)
    #expect(image.pixels.map(Float.init) == expected.scalars)
  }

  @Test func ownEncoderRoundTrips() throws {
    let pixels = (0..<(3 * 5 * 4)).map { UInt8(($0 * 37) % 256) }
    let png = PNG.encode(channelMajor: pixels, channels: 3, height: 5, width: 4)
    #expect(try PNG.decode(png, path: "memory") == DecodedImage(width: 4, height: 5, channels: 3, pixels: pixels))
  }

  @Test("broken PNGs are errors naming the file")
  func brokenFiles() throws {
    let good = Array(try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/rgb.png")))
    var badCRC = good
    badCRC[40] ^= 0xFF
    for (bytes, words) in [(Array(good.prefix(60)), "truncated"), (badCRC, "bad CRC"), ([1, 2, 3], "no PNG signature")] {
      #expect {
        try PNG.decode(bytes, path: "x.png")
      } throws: { error in
        let text = "\(error)"
        return text.hasPrefix("x.png:") && text.contains(words)
      }
    }
  }

  @Test("a folder of class folders is a dataset, classes sorted by name")
  func imageFolder() throws {
    let root = TemporaryPath.make("fedsim-folder")
    for (k, name) in ["zebra", "apple"].enumerated() {
      try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
      for i in 0..<(k + 2) {
        let px = [UInt8](repeating: UInt8(40 * k + i), count: 3 * 6 * 6)
        try Data(PNG.encode(channelMajor: px, channels: 3, height: 6, width: 6)).write(to: URL(fileURLWithPath: "\(root)/\(name)/\(i).png"))
      }
    }
    let d = try ImageDataset.load(root)
    #expect(d.format == .imageFolder && d.classNames == ["apple", "zebra"] && d.labels == [0, 0, 0, 1, 1])
    #expect(d.shape == [3, 6, 6] && d.pixels[0] == 40)
    try Data(PNG.encode(channelMajor: [UInt8](repeating: 0, count: 16), channels: 1, height: 4, width: 4))
      .write(to: URL(fileURLWithPath: "\(root)/zebra/odd.png"))
    #expect { try ImageDataset.load(root) } throws: { "\($0)".contains("odd.png") && "\($0)".contains("first image is 3×6×6") }
  }
}

@Suite("SVHN MATLAB files")
struct SVHNTests {
  static let dir = SharedData.repositoryRoot + "/Tests/Fixtures/svhn"

  @Test("SciPy's MATLAB v5 files read as SciPy wrote them", arguments: ["test_32x32.mat", "uncompressed_32x32.mat"])
  func readsSciPyFiles(_ name: String) throws {
    let d = try ImageDataset.load(Self.dir + "/" + name)
    #expect(d.format == .svhn && d.count == 6 && d.shape == [3, 32, 32])
    #expect(d.labels == [1, 0, 3, 0, 7, 2], "label 10 is the digit 0")
    #expect(d.pixels[1] == 6 && d.pixels[32] == 221)  // X[0,1,0,0], X[1,0,0,0]
    #expect(d.pixels[(4 * 3 + 2) * 1024 + 5 * 32 + 7] == 61)  // X[5,7,2,4]
    #expect(d.pixels.reduce(0) { $0 + Int($1) } == 2_343_118)
  }

  @Test func truncatedFileIsAnError() throws {
    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/test_32x32.mat")))
    let path = TemporaryPath.make("cut", suffix: ".mat")
    try Data(bytes.prefix(bytes.count - 500)).write(to: URL(fileURLWithPath: path))
    #expect { try ImageDataset.load(path) } throws: { "\($0)".hasPrefix(path) && "\($0)".contains("truncated") }
  }
}

@Suite("Animated timelines")
struct TimelineTests {
  @Test("an APNG of frames decodes back to every frame, with the declared count")
  func animationRoundTrips() throws {
    let frames: [[UInt8]] = (0..<5).map { (f: Int) -> [UInt8] in
      (0..<72).map { (i: Int) -> UInt8 in UInt8((i * 7 + f * 31) % 256) }
    }
    let bytes = PNG.encodeAnimation(width: 4, height: 6, channels: 3, frames: frames, delays: [0.1, 0.2])
    let (declared, decoded) = try PNG.decodeAnimation(bytes, path: "memory")
    #expect(declared == 5 && decoded.count == 5)
    for (f, image) in zip(frames, decoded) {
      #expect((image.width, image.height, image.channels) == (4, 6, 3))
      // decoded pixels are channel-major; the encoder took them interleaved
      var interleaved: [UInt8] = []
      for i in 0..<24 {
        for c in 0..<3 { interleaved.append(image.pixels[c * 24 + i]) }
      }
      #expect(interleaved == f)
    }
    // Viewers without APNG see the first frame as a plain PNG.
    #expect(try PNG.decode(bytes, path: "memory").pixels == decoded[0].pixels)
  }

  @Test("a timeline has one frame per snapshot, truth above reconstruction, the last frame the final image")
  func timeline() throws {
    var g = SeededGenerator(seed: 81)
    let truth = Tensor.uniform([2, 3, 8, 8], using: &g)
    let snapshots: [Tensor] = (0..<4).map { (k: Int) -> Tensor in truth * (Float(k) / 3) }
    let (declared, frames) = try PNG.decodeAnimation(Pictures.timeline(snapshots, truth: truth, scale: 2), path: "memory")
    #expect(declared == 4 && frames.count == 4)
    #expect((frames[0].width, frames[0].height) == (2 * 17 + 1, 2 * 17 + 1))
    // The last snapshot equals the truth, so the bottom row matches the top row.
    let last = frames[3]
    let w = last.width
    for c in 0..<3 {
      for y in 0..<16 {
        for x in 0..<34 {
          let top: Int = (c * last.height + 1 + y) * w + 1 + x
          let bottom: Int = (c * last.height + 18 + y) * w + 1 + x
          #expect(last.pixels[top] == last.pixels[bottom])
        }
      }
    }
  }
}
