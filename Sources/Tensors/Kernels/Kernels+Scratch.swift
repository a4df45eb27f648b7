#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Large scratch buffers kept between uses. Freed, a buffer of tens of MiB goes back to the
/// system (glibc maps such blocks anew each time), and the next use faults in and zeroes every
/// page again: Inception-v3's first Winograd layers spent longer in page faults than in their
/// products. Kept, and on 2 MiB pages where the kernel allows (`MADV_HUGEPAGE`), so that
/// panels read a block apart do not miss the TLB.
enum Scratch {
  /// Buffers not in use, smallest first.
  private static let free = Mutex<[Buffer]>([])
  /// What the kept buffers may hold in all, in floats (256 MiB); past it the smallest go.
  static let keepLimit = 1 << 26

  private struct Buffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let capacity: Int
  }

  /// Calls `body` with at least `count` floats (uninitialised, 64-byte aligned), and keeps them.
  static func with<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
    let buffer = take(count)
    defer { give(buffer) }
    return try body(buffer.pointer)
  }

  private static func take(_ count: Int) -> Buffer {
    let found = free.withLock { buffers -> Buffer? in
      guard let i = buffers.firstIndex(where: { $0.capacity >= count }) else { return nil }
      return buffers.remove(at: i)
    }
    return found ?? allocate(count)
  }

  private static func give(_ buffer: Buffer) {
    let dropped = free.withLock { buffers -> [Buffer] in
      buffers.append(buffer)
      buffers.sort { $0.capacity < $1.capacity }
      var dropped: [Buffer] = []
      while buffers.reduce(0, { $0 + $1.capacity }) > keepLimit { dropped.append(buffers.removeFirst()) }
      return dropped
    }
    for b in dropped { UnsafeMutableRawPointer(b.pointer).deallocate() }
  }

  private static func allocate(_ count: Int) -> Buffer {
    let bytes = 4 * count
    let huge = 1 << 21
    let rounded = bytes >= huge ? (bytes + huge - 1) / huge * huge : bytes
    let raw = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: bytes >= huge ? huge : 64)
    #if canImport(Glibc)
    if bytes >= huge { _ = madvise(raw, rounded, 14) }  // MADV_HUGEPAGE: advice only, refused harmlessly
    #endif
    return Buffer(pointer: raw.bindMemory(to: Float.self, capacity: rounded / 4), capacity: rounded / 4)
  }
}
