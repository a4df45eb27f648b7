import Foundation
import Tensors

extension ImageDataset {
  /// Reads a dataset file, or a folder holding exactly one: MNIST / Fashion-MNIST IDX (raw or
  /// gzip; give the images file, its labels file is found beside it) or CIFAR-10 / CIFAR-100
  /// binary. Class names come from the label-name files beside CIFAR data when present. A file
  /// that holds no images, or images without a row or a column, is an error.
  public static func load(_ path: String) throws(DatasetError) -> ImageDataset {
    let dataset = try read(path)
    guard dataset.height >= 1 && dataset.width >= 1 else {
      throw .malformed(
        path: dataset.source,
        reason: "its images are \(dataset.height)×\(dataset.width) pixels: an image needs at least one row and one column")
    }
    guard dataset.count >= 1 else { throw .malformed(path: dataset.source, reason: "holds no images") }
    return dataset
  }

  /// `load` without its checks of the images' shape and count.
  private static func read(_ path: String) throws(DatasetError) -> ImageDataset {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw .unreadable(path: path, reason: "no such file or folder")
    }
    if isDirectory.boolValue {
      let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
      let hasClassFolders = names.contains { name in
        var sub: ObjCBool = false
        return FileManager.default.fileExists(atPath: path + "/" + name, isDirectory: &sub) && sub.boolValue
          && ((try? FileManager.default.contentsOfDirectory(atPath: path + "/" + name)) ?? []).contains(where: ImageFile.isImageName)
      }
      if hasClassFolders { return try readImageFolder(path) }
      let candidates = names.filter { $0.contains("images-idx3") || $0.hasSuffix(".bin") || $0.hasSuffix(".mat") }
      guard candidates.count == 1 else {
        throw .unrecognized(
          path: path,
          reason: candidates.isEmpty
            ? "the folder holds no IDX images file, no CIFAR .bin file and no class folders of PNG or JPEG images"
            : "the folder holds several data files (\(candidates.joined(separator: ", "))); name one")
      }
      return try read(path + "/" + candidates[0])
    }
    do { try FileInput.checkRegular(path) } catch { throw .unreadable(path: path, reason: error.reason) }
    let name = URL(fileURLWithPath: path).lastPathComponent
    if name.contains("idx3") { return try readIDX(imagesPath: path) }
    if name.hasSuffix(".bin") { return try readCIFAR(path) }
    if name.hasSuffix(".mat") { return try readSVHN(path) }
    throw .unrecognized(
      path: path, reason: "expected an IDX images file (*-images-idx3-ubyte[.gz]), a CIFAR .bin file or an SVHN .mat file")
  }

  /// MNIST-style IDX: an unsigned-byte images file (N×H×W) and its labels file (N).
  public static func readIDX(imagesPath: String, labelsPath: String? = nil) throws(DatasetError) -> ImageDataset {
    let labelsPath = labelsPath ?? imagesPath.replacingOccurrences(of: "images-idx3", with: "labels-idx1")
    guard labelsPath != imagesPath else {
      throw .unrecognized(path: imagesPath, reason: "cannot tell where its labels file is")
    }
    // The labels first: a missing or broken labels file is found before the images are inflated.
    let (labelDims, labelBytes) = try readIDXArray(labelsPath, rank: 1)
    let (imageDims, pixels) = try readIDXArray(imagesPath, rank: 3)
    guard imageDims[0] == labelDims[0] else {
      throw .malformed(
        path: labelsPath, reason: "holds \(labelDims[0]) labels but \(imagesPath) holds \(imageDims[0]) images")
    }
    let labels = labelBytes.map(Int.init)
    if let bad = labels.firstIndex(where: { $0 > 9 }) {
      throw .malformed(path: labelsPath, reason: "label \(labels[bad]) of record \(bad) is not a digit class 0–9")
    }
    return ImageDataset(
      source: imagesPath, format: .idx, channels: 1, height: imageDims[1], width: imageDims[2],
      pixels: pixels, labels: labels, classNames: (0..<10).map(String.init))
  }

  /// One IDX array of unsigned bytes with `rank` dimensions.
  static func readIDXArray(_ path: String, rank: Int) throws(DatasetError) -> ([Int], [UInt8]) {
    let bytes = try Inflate.readMaybeGzip(path)
    guard bytes.count >= 4 + 4 * rank else {
      throw .malformed(path: path, reason: "\(bytes.count) bytes is too short for an IDX header")
    }
    guard bytes[0] == 0 && bytes[1] == 0 else {
      throw .malformed(path: path, reason: "bad IDX magic number (first two bytes must be zero)")
    }
    guard bytes[2] == 0x08 else {
      throw .malformed(path: path, reason: String(format: "IDX element type 0x%02x is not unsigned byte (0x08)", bytes[2]))
    }
    guard Int(bytes[3]) == rank else {
      throw .malformed(path: path, reason: "IDX array has \(bytes[3]) dimensions, expected \(rank)")
    }
    let dims = (0..<rank).map { d in
      (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * d + $1]) }
    }
    // Three 32-bit dimensions can multiply past Int.max: no file holds that much.
    let (expected, overflow) = dims.dropFirst().reduce((dims[0], false)) { product, d in
      let next = product.0.multipliedReportingOverflow(by: d)
      return (next.partialValue, product.1 || next.overflow)
    }
    guard !overflow else {
      throw .malformed(path: path, reason: "truncated: the header promises \(dims) bytes of data, more than any file holds")
    }
    let found = bytes.count - 4 - 4 * rank
    guard found == expected else {
      throw .malformed(
        path: path,
        reason: found < expected
          ? "truncated: the header promises \(dims) = \(expected) bytes of data, the file has \(found)"
          : "\(found - expected) bytes past the \(dims) data the header describes")
    }
    return (dims, Array(bytes[(4 + 4 * rank)...]))
  }

  /// CIFAR binary records: `<label><3072 pixels>` (CIFAR-10) or `<coarse><fine><3072 pixels>`
  /// (CIFAR-100, fine labels used). Which one is told by the file name (`*_batch*.bin` is
  /// CIFAR-10, `train.bin`/`test.bin` CIFAR-100), else by which record size divides the file.
  public static func readCIFAR(_ path: String) throws(DatasetError) -> ImageDataset {
    let bytes: [UInt8]
    do { bytes = try FileInput.bytes(path) } catch { throw .unreadable(path: path, reason: error.reason) }
    let name = URL(fileURLWithPath: path).lastPathComponent
    let isCIFAR100: Bool
    if name.contains("_batch") {
      isCIFAR100 = false
    } else if name == "train.bin" || name == "test.bin" {
      isCIFAR100 = true
    } else if bytes.count % 3073 == 0 && bytes.count % 3074 != 0 {
      isCIFAR100 = false
    } else if bytes.count % 3074 == 0 && bytes.count % 3073 != 0 {
      isCIFAR100 = true
    } else {
      throw .unrecognized(path: path, reason: "its size (\(bytes.count) bytes) fits neither CIFAR record layout")
    }
    let record = isCIFAR100 ? 3074 : 3073
    let classes = isCIFAR100 ? 100 : 10
    guard !bytes.isEmpty, bytes.count % record == 0 else {
      throw .malformed(
        path: path,
        reason: "\(bytes.count) bytes is not a whole number of \(record)-byte records "
          + "(truncated after record \(bytes.count / record)?)")
    }
    let n = bytes.count / record
    var pixels = [UInt8](repeating: 0, count: n * 3072)
    var labels = [Int](repeating: 0, count: n)
    for i in 0..<n {
      let r = i * record
      let label = Int(bytes[r + record - 3073])
      guard label < classes else {
        throw .malformed(path: path, reason: "record \(i) has label \(label), outside 0..<\(classes)")
      }
      if isCIFAR100, bytes[r] >= 20 {
        throw .malformed(path: path, reason: "record \(i) has coarse label \(bytes[r]), outside 0..<20")
      }
      labels[i] = label
      pixels.withUnsafeMutableBufferPointer { dst in
        bytes.withUnsafeBufferPointer { src in
          (dst.baseAddress! + i * 3072).update(from: src.baseAddress! + r + record - 3072, count: 3072)
        }
      }
    }
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    let namesFile = folder + (isCIFAR100 ? "/fine_label_names.txt" : "/batches.meta.txt")
    var classNames = (0..<classes).map(String.init)
    if let text = try? String(contentsOfFile: namesFile, encoding: .utf8) {
      let names = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
      if names.count == classes { classNames = names.map(displayName) }
    }
    return ImageDataset(
      source: path, format: isCIFAR100 ? .cifar100 : .cifar10, channels: 3, height: 32, width: 32,
      pixels: pixels, labels: labels, classNames: classNames)
  }
}

extension ImageDataset {
  /// A folder of PNG or JPEG images with one sub-folder per class (`root/<class>/*.png|jpg`), as
  /// torchvision's ImageFolder: classes sorted by name, images sorted within each. All images
  /// must share one size and channel count.
  public static func readImageFolder(_ root: String) throws(DatasetError) -> ImageDataset {
    let fm = FileManager.default
    let classes = ((try? fm.contentsOfDirectory(atPath: root)) ?? []).filter { name in
      var isDir: ObjCBool = false
      return !name.hasPrefix(".") && fm.fileExists(atPath: root + "/" + name, isDirectory: &isDir) && isDir.boolValue
    }.sorted()
    guard !classes.isEmpty else { throw .unrecognized(path: root, reason: "no class sub-folders of PNG or JPEG images") }
    var pixels: [UInt8] = []
    var labels: [Int] = []
    var shape: (Int, Int, Int)?
    for (label, name) in classes.enumerated() {
      let files = ((try? fm.contentsOfDirectory(atPath: root + "/" + name)) ?? []).filter(ImageFile.isImageName).sorted()
      for file in files {
        let path = root + "/" + name + "/" + file
        let image = try ImageFile.read(path)
        let s = (image.channels, image.height, image.width)
        if let shape, shape != s {
          throw .malformed(path: path, reason: "is \(s.0)×\(s.1)×\(s.2), the folder's first image is \(shape.0)×\(shape.1)×\(shape.2)")
        }
        shape = s
        pixels += image.pixels
        labels.append(label)
      }
    }
    guard let shape else { throw .unrecognized(path: root, reason: "the class folders hold no .png, .jpg or .jpeg files") }
    return ImageDataset(
      source: root, format: .imageFolder, channels: shape.0, height: shape.1, width: shape.2, pixels: pixels,
      labels: labels, classNames: classes.map(displayName))
  }

  /// A class name from a file or a folder name, as the terminal and reports show it: control
  /// characters (a terminal's escape sequences among them) as U+FFFD, at most 80 characters.
  static func displayName(_ name: String) -> String { UntrustedText.quoted(name) }
}
