/// Planes copied into zeroed, larger planes, so that a direct convolution reads its padding as
/// zeros without a test per element. Planes that need no margin are read where they lie.
struct PaddedPlanes {
  let base: UnsafePointer<Float>
  let top: Int, left: Int
  let height: Int, width: Int
  /// The padded copy, when one was made (kept alive with these planes).
  let copy: TensorStorage?
  var plane: Int { height * width }

  /// `count` planes of `h × w` at `x`, each at (`top`, `left`) of a zeroed `height × width` plane.
  init(_ x: UnsafePointer<Float>, count: Int, h: Int, w: Int, top: Int, left: Int, height: Int, width: Int) {
    (self.top, self.left, self.height, self.width) = (top, left, height, width)
    if top == 0 && left == 0 && height == h && width == w {
      (base, copy) = (x, nil)
      return
    }
    let padded = TensorStorage(count: count * height * width, repeating: 0)
    for i in 0..<count {
      for y in 0..<h {
        Kernels.copyRow(padded.base + (i * height + top + y) * width + left, x + (i * h + y) * w, count: w)
      }
    }
    (base, copy) = (UnsafePointer(padded.base), padded)
  }

  private init(padded: TensorStorage, top: Int, left: Int, height: Int, width: Int) {
    (base, copy) = (UnsafePointer(padded.base), padded)
    (self.top, self.left, self.height, self.width) = (top, left, height, width)
  }

  /// A convolution's input with its padding. The padded copy is kept with the input, since the
  /// forward pass, the filter gradient and the double backward all read it.
  init(input x: TensorStorage, _ s: ConvShape) {
    let (ph, pw) = s.geo.padding
    let key = DerivedLayout(kind: .padded, shape: s)
    let (height, width) = (s.h + 2 * ph, s.w + 2 * pw)
    if let cached = x.derived.withLock({ $0[key] }) {
      self.init(padded: cached, top: ph, left: pw, height: height, width: width)
      return
    }
    self.init(x.base, count: s.n * s.c, h: s.h, w: s.w, top: ph, left: pw, height: height, width: width)
    if let copy { x.derived.withLock { $0[key] = copy } }
  }

  /// A convolution's output gradient with the margins its input phases read, in windows of
  /// `window` positions along a row.
  init(outputGradient gy: UnsafePointer<Float>, _ s: ConvShape, phases: [InputPhase], window: Int) {
    var (top, left, bottom, right) = (0, 0, s.oh, s.ow)
    for p in phases {
      top = Swift.max(top, -(p.rowShifts.min() ?? 0))
      left = Swift.max(left, -(p.columnShifts.min() ?? 0))
      bottom = Swift.max(bottom, p.rows + (p.rowShifts.max() ?? 0))
      right = Swift.max(right, (p.columns + window - 1) / window * window + (p.columnShifts.max() ?? 0))
    }
    self.init(gy, count: s.n * s.o, h: s.oh, w: s.ow, top: top, left: left, height: top + bottom, width: left + right)
  }
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

  /// Where the reads of each position, or of each window of `window` positions along a row,
  /// start in the padded output-gradient planes.
  func positions(_ grad: PaddedPlanes, window: Int) -> [Int32] {
    var offsets = [Int32]()
    offsets.reserveCapacity(rows * ((columns + window - 1) / window))
    for u in 0..<rows {
      for v in stride(from: 0, to: columns, by: window) {
        offsets.append(Int32((grad.top + u) * grad.width + grad.left + v))
      }
    }
    return offsets
  }

  /// Where each tap `(o, ky, kx)` (o outermost, then ky, then kx) reads from a position's start.
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

  /// The weights of the taps, per input channel: `[c][j]` for tap `j` in `taps`' order.
  func weights(_ w: UnsafePointer<Float>, _ s: ConvShape) -> UnsafeMutablePointer<Float> {
    let count = s.o * kys.count * kxs.count
    let out = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, s.c * count))
    for c in 0..<s.c {
      var j = c * count
      for o in 0..<s.o {
        let filter = w + (o * s.c + c) * s.kh * s.kw
        for ky in kys {
          for kx in kxs {
            out[j] = filter[ky * s.kw + kx]
            j += 1
          }
        }
      }
    }
    return out
  }

  /// Writes a tile of one position per row, `channels` along its lanes, into one sample's input gradient.
  func storeChannels(_ tile: UnsafePointer<Float>, lanes: Int, channels: Int, into gx: UnsafeMutablePointer<Float>, _ s: ConvShape) {
    let (sy, sx) = s.geo.stride
    for c in 0..<channels {
      var t = tile + c
      for u in 0..<rows {
        let start = (c &* s.h &+ ry &+ sy &* u) &* s.w &+ rx
        var x = gx + start
        for _ in 0..<columns {
          x.pointee = t.pointee
          (x, t) = (x + sx, t + lanes)
        }
      }
    }
  }

  /// Writes a tile of one window of `lanes` positions per row into one channel of one sample's
  /// input gradient (the positions past a row's end are dropped).
  func storeWindows(_ tile: UnsafePointer<Float>, lanes: Int, into plane: UnsafeMutablePointer<Float>, _ s: ConvShape) {
    let (sy, sx) = s.geo.stride
    var t = tile
    for u in 0..<rows {
      let start = (ry &+ sy &* u) &* s.w &+ rx
      var x = plane + start
      var left = columns
      while left > 0 {
        for l in 0..<Swift.min(lanes, left) { x[sx &* l] = t[l] }
        x += sx &* lanes
        t += lanes
        left &-= lanes
      }
    }
  }
}
