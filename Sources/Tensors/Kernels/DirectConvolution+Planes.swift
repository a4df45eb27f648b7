/// Planes copied into zeroed, larger planes, so that a direct convolution reads its padding as
/// zeros without a test per element. Planes that need no margin are read where they lie.
struct PaddedPlanes {
  let base: UnsafePointer<Float>
  let top: Int, left: Int
  let height: Int, width: Int
  private let owned: UnsafeMutablePointer<Float>?
  var plane: Int { height * width }

  /// `count` planes of `h × w` at `x`, each at (`top`, `left`) of a zeroed `height × width` plane.
  init(_ x: UnsafePointer<Float>, count: Int, h: Int, w: Int, top: Int, left: Int, height: Int, width: Int) {
    (self.top, self.left, self.height, self.width) = (top, left, height, width)
    if top == 0 && left == 0 && height == h && width == w {
      (base, owned) = (x, nil)
      return
    }
    let padded = UnsafeMutablePointer<Float>.allocate(capacity: count * height * width)
    padded.initialize(repeating: 0, count: count * height * width)
    for i in 0..<count {
      for y in 0..<h {
        Kernels.copyRow(padded + (i * height + top + y) * width + left, x + (i * h + y) * w, count: w)
      }
    }
    (base, owned) = (UnsafePointer(padded), padded)
  }

  /// A convolution's input with its padding.
  init(_ x: UnsafePointer<Float>, _ s: ConvShape) {
    let (ph, pw) = s.geo.padding
    self.init(x, count: s.n * s.c, h: s.h, w: s.w, top: ph, left: pw, height: s.h + 2 * ph, width: s.w + 2 * pw)
  }

  /// A convolution's output gradient with the margins its input phases read.
  init(outputGradient gy: UnsafePointer<Float>, _ s: ConvShape, phases: [InputPhase]) {
    var (top, left, bottom, right) = (0, 0, s.oh, s.ow)
    for p in phases {
      top = Swift.max(top, -(p.rowShifts.min() ?? 0))
      left = Swift.max(left, -(p.columnShifts.min() ?? 0))
      bottom = Swift.max(bottom, p.rows + (p.rowShifts.max() ?? 0))
      right = Swift.max(right, p.columns + (p.columnShifts.max() ?? 0))
    }
    self.init(gy, count: s.n * s.o, h: s.oh, w: s.ow, top: top, left: left, height: top + bottom, width: left + right)
  }

  func free() { owned?.deallocate() }
}

/// The input positions of one phase `(ry, rx)` of a strided convolution (rows `ry + sy·u`,
/// columns `rx + sx·v`) and the kernel taps that reach them: tap `ky` reaches input row
/// `ry + sy·u` from output row `u + (ry + py − ky)/sy` when `sy` divides `ry + py − ky`.
struct InputPhase {
  let ry: Int, rx: Int
  let rows: Int, columns: Int  // positions of the phase along each axis
  let kys: [Int], kxs: [Int]  // the taps that reach it
  let rowShifts: [Int], columnShifts: [Int]  // output row (column) minus u (v), per tap

  /// The phases of `s`'s input that some tap reaches.
  static func all(_ s: ConvShape) -> [InputPhase] {
    let (sy, sx) = s.geo.stride
    let (py, px) = s.geo.padding
    var phases = [InputPhase]()
    for ry in 0..<Swift.min(sy, s.h) {
      for rx in 0..<Swift.min(sx, s.w) {
        let kys = (0..<s.kh).filter { (ry + py - $0) % sy == 0 }
        let kxs = (0..<s.kw).filter { (rx + px - $0) % sx == 0 }
        guard !kys.isEmpty && !kxs.isEmpty else { continue }
        phases.append(InputPhase(
          ry: ry, rx: rx, rows: (s.h - ry + sy - 1) / sy, columns: (s.w - rx + sx - 1) / sx, kys: kys, kxs: kxs,
          rowShifts: kys.map { (ry + py - $0) / sy }, columnShifts: kxs.map { (rx + px - $0) / sx }))
      }
    }
    return phases
  }

  /// Where each position's reads start in a padded output-gradient plane.
  func positions(rowLength: Int, top: Int, left: Int) -> [Int32] {
    var offsets = [Int32]()
    offsets.reserveCapacity(rows * columns)
    for u in 0..<rows {
      for v in 0..<columns { offsets.append(Int32((top + u) * rowLength + left + v)) }
    }
    return offsets
  }

  /// Where each tap `(o, ky, kx)` (in `tap(_:)`'s order) reads from a position's start.
  func taps(plane: Int, rowLength: Int, outputs: Int) -> [Int32] {
    var offsets = [Int32]()
    offsets.reserveCapacity(outputs * kys.count * kxs.count)
    for o in 0..<outputs {
      for dy in rowShifts {
        for dx in columnShifts { offsets.append(Int32(o * plane + dy * rowLength + dx)) }
      }
    }
    return offsets
  }

  /// The output channel and kernel tap of reduction step `j`.
  func tap(_ j: Int) -> (o: Int, ky: Int, kx: Int) {
    let perChannel = kys.count * kxs.count
    return (j / perChannel, kys[j % perChannel / kxs.count], kxs[j % kxs.count])
  }

  /// Adds a tile of `rows·columns × lanes` (channels along the lanes) into one sample's input gradient.
  func scatterAdd(_ tile: UnsafePointer<Float>, lanes: Int, channels: Int, into gx: UnsafeMutablePointer<Float>, _ s: ConvShape) {
    let (sy, sx) = s.geo.stride
    for c in 0..<channels {
      let plane = gx + c * s.h * s.w
      for u in 0..<rows {
        let row = plane + (ry + sy * u) * s.w + rx
        let t = tile + u * columns * lanes + c
        for v in 0..<columns { row[sx * v] += t[v * lanes] }
      }
    }
  }
}
