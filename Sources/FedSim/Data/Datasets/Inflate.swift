import CZlib
import Foundation
import Tensors

/// zlib decompression of gzip and zlib streams.
public enum Inflate {
  /// Bytes a stream may decompress to (2 GiB): more than any dataset file FedSim reads (SVHN's
  /// extra set, 531,131 images, holds 1.63 GB of pixels), so that a small hostile file (deflate
  /// reaches 1,000:1: 30 MB could hold 30 GB) cannot exhaust the memory.
  public static let maximumSize = 1 << 31

  /// Decompresses a whole gzip or zlib stream (detected from its header). A stream that ends
  /// early, is corrupt or decompresses past `limit` bytes is an error naming `path`.
  public static func decompress(
    _ input: [UInt8], path: String, expectedSize: Int? = nil, limit: Int = maximumSize
  ) throws(DatasetError) -> [UInt8] {
    var stream = z_stream()
    // 15 + 32: a 32 KiB window, accepting both gzip and zlib headers.
    guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw .unreadable(path: path, reason: "zlib could not start")
    }
    defer { inflateEnd(&stream) }
    var output = [UInt8]()
    output.reserveCapacity(Swift.min(expectedSize ?? input.count * 4, limit))
    let chunk = 1 << 20
    var buffer = [UInt8](repeating: 0, count: chunk)
    var status: Int32 = Z_OK
    try input.withUnsafeBufferPointer { (inBuf) throws(DatasetError) in
      stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
      stream.avail_in = UInt32(inBuf.count)
      repeat {
        status = buffer.withUnsafeMutableBufferPointer { out in
          stream.next_out = out.baseAddress
          stream.avail_out = UInt32(chunk)
          return inflate(&stream, Z_NO_FLUSH)
        }
        output.append(contentsOf: buffer[0..<(chunk - Int(stream.avail_out))])
        guard output.count <= limit else {
          throw .malformed(path: path, reason: "decompresses to more than \(limit >> 20) MiB, more than a dataset FedSim reads")
        }
        if status == Z_DATA_ERROR || status == Z_NEED_DICT || status == Z_MEM_ERROR {
          let message = stream.msg.map { String(cString: $0) } ?? "corrupt data"
          throw .malformed(path: path, reason: "compressed data is corrupt (\(message)) after \(output.count) bytes")
        }
        if status == Z_BUF_ERROR && stream.avail_in == 0 { break }
      } while status != Z_STREAM_END
    }
    guard status == Z_STREAM_END else {
      throw .malformed(path: path, reason: "compressed data ends early (truncated after \(output.count) decompressed bytes)")
    }
    return output
  }

  /// Reads a file, decompressing it when it is gzip (magic 1f 8b).
  static func readMaybeGzip(_ path: String) throws(DatasetError) -> [UInt8] {
    let bytes: [UInt8]
    do { bytes = try FileInput.bytes(path) } catch { throw .unreadable(path: path, reason: error.reason) }
    if bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B { return try decompress(bytes, path: path) }
    return bytes
  }
}
