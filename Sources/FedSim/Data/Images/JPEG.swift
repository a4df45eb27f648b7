import CTurboJPEG
import Foundation
import Tensors

/// JPEG decoding through libjpeg-turbo's TurboJPEG API: baseline and progressive, greyscale
/// (1 channel) or colour (3, as RGB), with the accurate integer IDCT and fancy upsampling, as
/// Pillow and torchvision decode. A truncated or corrupt file is an error, not a grey-filled
/// image (TurboJPEG stops on warnings); CMYK files are refused.
public enum JPEG {
  /// The JPEG start-of-image marker and the start of any marker segment.
  public static let signature: [UInt8] = [0xFF, 0xD8, 0xFF]

  public static func decode(_ bytes: [UInt8], path: String) throws(DatasetError) -> DecodedImage {
    func fail(_ why: String) -> DatasetError { .malformed(path: path, reason: "not a readable JPEG: \(why)") }
    guard bytes.count >= 4, bytes.starts(with: signature) else { throw fail("no JPEG start-of-image marker") }
    guard let handle = tjInitDecompress() else { throw fail("libjpeg-turbo could not start a decompressor") }
    defer { tjDestroy(handle) }
    func libraryError() -> String { tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown error" }

    var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
    let header = bytes.withUnsafeBufferPointer { buffer in
      tjDecompressHeader3(handle, buffer.baseAddress, UInt(buffer.count), &width, &height, &subsampling, &colorspace)
    }
    guard header == 0 else { throw fail(libraryError()) }
    let (w, h) = (Int(width), Int(height))
    guard w > 0, h > 0 else { throw fail("its header gives a \(w)×\(h) image") }
    guard w <= PNG.largestSide, h <= PNG.largestSide, w * h <= PNG.largestPixels else {
      throw fail("\(w)×\(h) is larger than FedSim reads (\(PNG.largestSide) a side, \(PNG.largestPixels) pixels)")
    }
    guard colorspace != Int32(TJCS_CMYK.rawValue), colorspace != Int32(TJCS_YCCK.rawValue) else {
      throw fail("CMYK JPEGs are not read; save it as RGB")
    }
    let grey = colorspace == Int32(TJCS_GRAY.rawValue)
    let channels = grey ? 1 : 3
    var interleaved = [UInt8](repeating: 0, count: w * h * channels)
    let flags = TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS
    let status = bytes.withUnsafeBufferPointer { source in
      interleaved.withUnsafeMutableBufferPointer { target in
        tjDecompress2(
          handle, source.baseAddress, UInt(source.count), target.baseAddress, width, 0, height,
          grey ? Int32(TJPF_GRAY.rawValue) : Int32(TJPF_RGB.rawValue), flags)
      }
    }
    guard status == 0 else { throw fail(libraryError()) }
    return DecodedImage(width: w, height: h, channels: channels, pixels: channelMajor(interleaved, channels: channels))
  }

  /// Row-major pixels with channels interleaved, as channel-major planes.
  static func channelMajor(_ interleaved: [UInt8], channels: Int) -> [UInt8] {
    guard channels > 1 else { return interleaved }
    let n = interleaved.count / channels
    var planes = [UInt8](repeating: 0, count: interleaved.count)
    for p in 0..<n {
      for c in 0..<channels { planes[c * n + p] = interleaved[p * channels + c] }
    }
    return planes
  }
}

/// An image file whose format is told by its first bytes, not its name: PNG or JPEG.
public enum ImageFile {
  /// The names an image file may end with, lower-case.
  public static let extensions = ["png", "jpg", "jpeg"]

  /// Whether a file name ends in one of `extensions`.
  public static func isImageName(_ name: String) -> Bool {
    extensions.contains { name.lowercased().hasSuffix("." + $0) }
  }

  public static func decode(_ bytes: [UInt8], path: String) throws(DatasetError) -> DecodedImage {
    if bytes.starts(with: JPEG.signature) { return try JPEG.decode(bytes, path: path) }
    if bytes.starts(with: PNG.signature) { return try PNG.decode(bytes, path: path) }
    throw .malformed(path: path, reason: "neither a PNG nor a JPEG (its first bytes are neither signature)")
  }

  /// Reads and decodes a PNG or JPEG file.
  public static func read(_ path: String) throws(DatasetError) -> DecodedImage {
    let bytes: [UInt8]
    do { bytes = try FileInput.bytes(path) } catch { throw .unreadable(path: path, reason: error.reason) }
    return try decode(bytes, path: path)
  }
}
