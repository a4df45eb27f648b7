import FedData
import FedSimCore
import Foundation
import Tensors

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// Where a dataset is published and how to check what arrives.
public struct DatasetSource: Sendable {
  public struct File: Sendable {
    public var name: String
    public var md5: String
    /// "train", "test", or "all" for an archive holding both.
    public var split: String
    /// Archives are unpacked into the destination after checking.
    public var isArchive: Bool { name.hasSuffix(".tar.gz") }
  }

  public var name: String
  public var baseURL: String
  public var files: [File]

  /// The datasets `fedsim data fetch` knows, with their publishers' checksums.
  public static let all: [DatasetSource] = [
    DatasetSource(name: "mnist", baseURL: "https://ossci-datasets.s3.amazonaws.com/mnist/", files: [
      File(name: "train-images-idx3-ubyte.gz", md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873", split: "train"),
      File(name: "train-labels-idx1-ubyte.gz", md5: "d53e105ee54ea40749a09fcbcd1e9432", split: "train"),
      File(name: "t10k-images-idx3-ubyte.gz", md5: "9fb629c4189551a2d022fa330f9573f3", split: "test"),
      File(name: "t10k-labels-idx1-ubyte.gz", md5: "ec29112dd5afa0611ce80d1b7f02629c", split: "test"),
    ]),
    DatasetSource(name: "fashion-mnist", baseURL: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", files: [
      File(name: "train-images-idx3-ubyte.gz", md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d", split: "train"),
      File(name: "train-labels-idx1-ubyte.gz", md5: "25c81989df183df01b3e8a0aad5dffbe", split: "train"),
      File(name: "t10k-images-idx3-ubyte.gz", md5: "bef4ecab320f06d8554ea6380940ec79", split: "test"),
      File(name: "t10k-labels-idx1-ubyte.gz", md5: "bb300cfdad3c16e7a12a480ee83cd310", split: "test"),
    ]),
    DatasetSource(name: "cifar-10", baseURL: "https://www.cs.toronto.edu/~kriz/", files: [
      File(name: "cifar-10-binary.tar.gz", md5: "c32a1d4ab5d03f1284b67883e8d87530", split: "all")
    ]),
    DatasetSource(name: "cifar-100", baseURL: "https://www.cs.toronto.edu/~kriz/", files: [
      File(name: "cifar-100-binary.tar.gz", md5: "03b5dce01913d631647c71ecec9e9cb8", split: "all")
    ]),
    DatasetSource(name: "svhn", baseURL: "http://ufldl.stanford.edu/housenumbers/", files: [
      File(name: "train_32x32.mat", md5: "e26dedcc434d2e4c54c9b2d4a06d8373", split: "train"),
      File(name: "test_32x32.mat", md5: "eb5a983be6a315427106f1b164d9cef3", split: "test"),
    ]),
  ]
}

/// Why a fetch failed; each case names the file or address.
public enum FetchError: Error, Equatable, CustomStringConvertible {
  case unknownDataset(String)
  case download(url: String, reason: String)
  case checksum(file: String, expected: String, found: String)
  case archive(file: String, reason: String)
  case write(path: String, reason: String)

  public var description: String {
    switch self {
    case .unknownDataset(let n): "unknown dataset '\(n)' (known: \(DatasetSource.all.map(\.name).joined(separator: ", ")))"
    case .download(let u, let r): "\(u): download failed: \(r)"
    case .checksum(let f, let e, let g): "\(f): checksum mismatch: MD5 \(g), the publisher's is \(e); nothing was kept"
    case .archive(let f, let r): "\(f): cannot unpack: \(r)"
    case .write(let p, let r): "\(p): cannot write: \(r)"
    }
  }
}

public enum DatasetFetcher {
  /// Downloads `dataset`'s files of `split` ("train", "test" or "all") from its publisher, or
  /// from `mirror` (a base URL the file names are appended to), checks each against its MD5 and
  /// writes it into `directory` atomically; archives are unpacked there. Returns the files written.
  public static func fetch(
    _ dataset: String, split: String = "all", mirror: String? = nil, to directory: String,
    progress: (String) -> Void = { _ in }
  ) throws(FetchError) -> [String] {
    guard let source = DatasetSource.all.first(where: { $0.name == dataset }) else { throw .unknownDataset(dataset) }
    do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
      throw .write(path: directory, reason: (error as NSError).localizedDescription)
    }
    var base = mirror ?? source.baseURL
    if !base.hasSuffix("/") { base += "/" }
    var written: [String] = []
    for file in source.files where split == "all" || file.split == split || file.split == "all" {
      let url = base + file.name
      progress("downloading \(url)")
      let bytes = try download(url)
      let md5 = MD5.hex(bytes)
      guard md5 == file.md5 else { throw .checksum(file: url, expected: file.md5, found: md5) }
      if file.isArchive {
        written += try unpackTarGz(bytes, name: url, into: directory)
      } else {
        let path = directory + "/" + file.name
        do { try FileOutput.write(Data(bytes), to: path) } catch { throw .write(path: path, reason: error.reason) }
        written.append(path)
      }
      progress("checked \(file.name) (MD5 \(md5))")
    }
    return written
  }

  /// The body of a successful GET, within `timeout` seconds.
  static func download(_ url: String, timeout: TimeInterval = 600) throws(FetchError) -> [UInt8] {
    guard let address = URL(string: url), address.scheme == "http" || address.scheme == "https" else {
      throw .download(url: url, reason: "not an http(s) address")
    }
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox()
    var request = URLRequest(url: address)
    request.timeoutInterval = timeout
    URLSession.shared.dataTask(with: request) { data, response, error in
      if let error {
        box.result = .failure(.download(url: url, reason: error.localizedDescription))
      } else if let http = response as? HTTPURLResponse, http.statusCode != 200 {
        box.result = .failure(.download(url: url, reason: "HTTP status \(http.statusCode)"))
      } else {
        box.result = .success(Array(data ?? Data()))
      }
      done.signal()
    }.resume()
    done.wait()
    return try box.result!.get()
  }

  // Unchecked: written once by the URLSession callback before `done.signal()`, read after `wait()`.
  private final class ResultBox: @unchecked Sendable {
    var result: Result<[UInt8], FetchError>?
  }

  /// Unpacks the regular files of a gzip-compressed ustar archive into `directory`, refusing
  /// absolute paths and `..`.
  static func unpackTarGz(_ bytes: [UInt8], name: String, into directory: String) throws(FetchError) -> [String] {
    let tar: [UInt8]
    do { tar = try Inflate.decompress(bytes, path: name) } catch { throw .archive(file: name, reason: "\(error)") }
    var written: [String] = []
    var offset = 0
    func text(_ at: Int, _ length: Int) -> String {
      let field = tar[at..<(at + length)]
      return String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }
    while offset + 512 <= tar.count {
      if tar[offset..<(offset + 512)].allSatisfy({ $0 == 0 }) { break }
      let prefix = text(offset + 345, 155)
      let entry = (prefix.isEmpty ? "" : prefix + "/") + text(offset + 0, 100)
      let sizeField = text(offset + 124, 12).trimmingCharacters(in: .whitespaces)
      guard let size = Int(sizeField, radix: 8) else { throw .archive(file: name, reason: "bad size field for '\(entry)'") }
      let type = tar[offset + 156]
      let start = offset + 512
      guard start + size <= tar.count else { throw .archive(file: name, reason: "'\(entry)' is truncated") }
      if type == UInt8(ascii: "0") || type == 0 {
        guard !entry.hasPrefix("/"), !entry.split(separator: "/").contains("..") else {
          throw .archive(file: name, reason: "refusing the unsafe path '\(entry)'")
        }
        let path = directory + "/" + entry
        do {
          try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
          // Not through FileOutput: an archive's entry replaces whatever is at its path, a link
          // included, and never writes where a link points.
          try Data(tar[start..<(start + size)]).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch { throw .write(path: path, reason: FileOutput.reason(error)) }
        written.append(path)
      }
      offset = start + (size + 511) / 512 * 512
    }
    return written
  }
}

/// MD5 of text, for checks and tests.
public enum MD5Check {
  public static func hex(_ text: String) -> String { MD5.hex(Array(text.utf8)) }
}

/// Unpacks a local .tar.gz the way fetched archives are unpacked.
public enum ArchiveCheck {
  public static func unpack(_ path: String, into directory: String) throws -> [String] {
    try DatasetFetcher.unpackTarGz(Array(try Data(contentsOf: URL(fileURLWithPath: path))), name: path, into: directory)
  }
}
