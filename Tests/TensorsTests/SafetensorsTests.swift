import Foundation
import Tensors
import TestSupport
import Testing

/// Builds safetensors bytes from a header object and raw data.
func safetensorsBytes(header: String, data: [UInt8]) -> [UInt8] {
  let h = Array(header.utf8)
  var out = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(h.count) >> (8 * UInt64($0))) }
  out += h
  out += data
  return out
}

func floatBytes(_ values: [Float]) -> [UInt8] {
  values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt32($0))) } }
}

@Suite("Safetensors")
struct SafetensorsTests {
  @Test func roundTripKeepsTensorsAndMetadata() throws {
    var gen = SeededGenerator(seed: 3)
    let file = SafetensorsFile(
      tensors: ["body.0.weight": .normal([12, 3, 5, 5], using: &gen), "scalar": Tensor(2.5), "empty": .zeros([0, 3])],
      metadata: ["model": "lenet", "classes": "10"])
    let back = try SafetensorsFile(bytes: file.serialized(), source: "memory")
    #expect(back.metadata == file.metadata)
    #expect(back.names == file.names)
    for name in file.names {
      #expect(back.tensors[name]!.shape == file.tensors[name]!.shape)
      #expect(back.tensors[name]!.scalars == file.tensors[name]!.scalars)
    }
    let path = TemporaryPath.make("fedsim", suffix: ".safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try file.write(to: path)
    #expect(try SafetensorsFile(contentsOf: path).tensors["scalar"]!.scalar == 2.5)
  }

  @Test func readsOtherFloatAndIntegerTypes() throws {
    // F64 1.5, F16 -2.0 and 2^-24 (subnormal), BF16 3.0, I64 -7, U8 200
    var data: [UInt8] = []
    data += withUnsafeBytes(of: (1.5 as Double).bitPattern.littleEndian, Array.init)
    data += [0x00, 0xC0, 0x01, 0x00]
    data += [0x40, 0x40]
    data += withUnsafeBytes(of: Int64(-7).littleEndian, Array.init)
    data += [200]
    let header = """
      {"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},\
      "b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},\
      "c":{"dtype":"BF16","shape":[1],"data_offsets":[12,14]},\
      "d":{"dtype":"I64","shape":[],"data_offsets":[14,22]},\
      "e":{"dtype":"U8","shape":[1],"data_offsets":[22,23]}}
      """
    let f = try SafetensorsFile(bytes: safetensorsBytes(header: header, data: data), source: "t")
    #expect(f.tensors["a"]!.scalars == [1.5])
    #expect(f.tensors["b"]!.scalars == [-2, 0x1p-24])
    #expect(f.tensors["c"]!.scalars == [3])
    #expect(f.tensors["d"]!.scalar == -7)
    #expect(f.tensors["e"]!.scalars == [200])
  }

  static let malformed: [(String, [UInt8], String)] = [
    ("too short", [1, 2, 3], "too short"),
    ("header length past the end", safetensorsBytes(header: "{}", data: []).enumerated().map { $0.0 == 0 ? 200 : $0.1 }, "runs past the end"),
    ("not JSON", safetensorsBytes(header: "{nope", data: []), "not valid JSON"),
    ("not an object", safetensorsBytes(header: "[1,2]", data: []), "not a JSON object"),
    ("unknown dtype", safetensorsBytes(header: #"{"x":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}"#, data: floatBytes([1])), "unsupported dtype 'Q7'"),
    ("bad shape", safetensorsBytes(header: #"{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: floatBytes([1])), "no valid shape"),
    ("offsets out of range", safetensorsBytes(header: #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: floatBytes([1])), "lie outside"),
    ("size disagrees with shape", safetensorsBytes(header: #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: floatBytes([1])), "needs 8"),
    ("overlapping data", safetensorsBytes(header: #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: floatBytes([1, 2])), "overlap"),
    ("metadata not strings", safetensorsBytes(header: #"{"__metadata__":{"a":1}}"#, data: []), "not a string"),
    // A hostile name (an escape sequence, 10,000 characters) is quoted short and printable.
    (
      "a hostile name",
      safetensorsBytes(header: #"{"\u001b[31m"# + String(repeating: "n", count: 10_000) + #"":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}"#, data: floatBytes([1])),
      "'\u{FFFD}[31m" + String(repeating: "n", count: 75) + "…' has unsupported dtype 'Q7'"
    ),
  ]

  @Test("a malformed file is an error naming the file and the fault", arguments: malformed)
  func malformedFile(_ c: (String, [UInt8], String)) {
    do {
      _ = try SafetensorsFile(bytes: c.1, source: "bad.safetensors")
      Issue.record("\(c.0): accepted")
    } catch {
      let message = error.description
      #expect(message.hasPrefix("bad.safetensors:"), "\(c.0): \(message)")
      #expect(message.contains(c.2), "\(c.0): \(message)")
    }
  }

  @Test("untrusted text: quoted short and printable; a message keeps its lines and tabs")
  func untrustedText() {
    #expect(UntrustedText.quoted("caf\u{E9}") == "caf\u{E9}")
    #expect(UntrustedText.quoted(String(repeating: "\u{E9}", count: 81)) == String(repeating: "\u{E9}", count: 80) + "…")
    #expect(UntrustedText.quoted(String(repeating: "x", count: 80)) == String(repeating: "x", count: 80))
    #expect(UntrustedText.quoted("a\u{1B}]0;t\u{07}\u{9B}b\u{7F}") == "a\u{FFFD}]0;t\u{FFFD}\u{FFFD}b\u{FFFD}")
    #expect(UntrustedText.printable(message: "one\ttwo\nthree\u{1B}[2J") == "one\ttwo\nthree\u{FFFD}[2J")
    let long = UntrustedText.printable(message: "a\n" + String(repeating: "z", count: 3_000))
    #expect(long == "a\n" + String(repeating: "z", count: UntrustedText.lineLimit) + "…")
  }

  @Test func missingFileIsAnError() {
    #expect(throws: SafetensorsError.self) { try SafetensorsFile(contentsOf: "/nonexistent/x.safetensors") }
  }

  @Test func loadingParametersChecksNamesAndShapes() throws {
    var gen = SeededGenerator(seed: 1)
    var model = LeNet(generator: &gen)
    var params = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.tensor) })
    #expect(params.keys.sorted() == ["body.0.bias", "body.0.weight", "body.2.bias", "body.2.weight", "body.4.bias", "body.4.weight", "fc.bias", "fc.weight"])
    params["fc.weight"] = .zeros([10, 767])
    #expect(throws: ParameterError.shapeMismatch("fc.weight", expected: [10, 768], found: [10, 767])) {
      try model.loadStateDict(params)
    }
    params["fc.weight"] = .zeros([10, 768])
    params["extra"] = .zeros([1])
    #expect(throws: ParameterError.unexpected("extra")) { try model.loadStateDict(params) }
    params["extra"] = nil
    params["body.2.bias"] = nil
    #expect(throws: ParameterError.missing("body.2.bias")) { try model.loadStateDict(params) }
  }
}
