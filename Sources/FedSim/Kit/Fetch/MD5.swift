import FedSimCore
/// MD5 (RFC 1321), for checking downloads against the checksums their publishers give.
/// Not for security.
enum MD5 {
  static func hex(_ message: [UInt8]) -> String {
    digest(message).map { String(format2($0)) }.joined()
  }

  private static func format2(_ b: UInt8) -> String {
    let s = String(b, radix: 16)
    return s.count == 1 ? "0" + s : s
  }

  static func digest(_ message: [UInt8]) -> [UInt8] {
    let s: [UInt32] = [
      7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
      4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ]
    let k: [UInt32] = (0..<64).map { i in UInt32(truncatingIfNeeded: Int64((abs(sinOf(Double(i + 1))) * 4_294_967_296).rounded(.down))) }
    var (a0, b0, c0, d0): (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476)
    var data = message
    let bitLength = UInt64(message.count) &* 8
    data.append(0x80)
    while data.count % 64 != 56 { data.append(0) }
    for i in 0..<8 { data.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }
    var m = [UInt32](repeating: 0, count: 16)
    for chunk in stride(from: 0, to: data.count, by: 64) {
      for i in 0..<16 {
        let j = chunk + 4 * i
        m[i] = UInt32(data[j]) | UInt32(data[j + 1]) << 8 | UInt32(data[j + 2]) << 16 | UInt32(data[j + 3]) << 24
      }
      var (a, b, c, d) = (a0, b0, c0, d0)
      for i in 0..<64 {
        var f: UInt32
        let g: Int
        switch i {
        case 0..<16: (f, g) = ((b & c) | (~b & d), i)
        case 16..<32: (f, g) = ((d & b) | (~d & c), (5 * i + 1) % 16)
        case 32..<48: (f, g) = (b ^ c ^ d, (3 * i + 5) % 16)
        default: (f, g) = (c ^ (b | ~d), (7 * i) % 16)
        }
        f = f &+ a &+ k[i] &+ m[g]
        a = d
        d = c
        c = b
        b = b &+ (f << s[i] | f >> (32 - s[i]))
      }
      (a0, b0, c0, d0) = (a0 &+ a, b0 &+ b, c0 &+ c, d0 &+ d)
    }
    return [a0, b0, c0, d0].flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
  }
}

#if canImport(Glibc)
  import Glibc
  private func sinOf(_ x: Double) -> Double { Glibc.sin(x) }
#else
  import Darwin
  private func sinOf(_ x: Double) -> Double { Darwin.sin(x) }
#endif
