/// How the threads of one pass share its parts, as the low 32 bits of `WorkerPool`'s pass word
/// (the generation is above them), so that a claim is one compare-and-swap of that word.
///
/// - Taken in turn (`parts` of 3 or more threads): bits 16–30 hold the parts and bits 0–15 the
///   next part not yet claimed; a claim is that one part.
/// - From both ends (two threads): the pass is cut into up to `units` parts, and the caller
///   claims from the front while the workers claim from the back. Each side's first claim is its
///   home, 7/16 of the parts; the parts left between the two homes go in claims of half of what
///   is left, to whichever side comes for them. With two halves fixed, the side that runs late
///   (a core slowed or taken by another process on a shared machine) left the other waiting: at
///   two threads on DenseNet-121 each thread spent 12–14% of its time waiting for the other.
///   With parts dealt in turn from one queue, the threads went on balancing but read what the
///   other had written, and two threads over one fell from 1.6 to 1.3–1.5. Homes keep each
///   thread mostly on the same part of every pass, as with halves; only the middle eighth moves.
///   The caller's home is kept for it until its first claim: a worker that comes first, when a
///   pass is short, would otherwise run through the whole of it.
///   Bits 0–7 hold the front (the first unclaimed part), 8–15 the back (one past the last),
///   16–23 the parts, and bit 31 says the pass is claimed this way.
///
/// Whoever claims parts runs them as one range, so a kernel's result for an index must not
/// depend on the range it came in (FedSim's kernels compute each index from its own inputs).
struct Claims {
  /// Parts of a pass claimed from both ends, at most.
  static let units = 32
  private static let bothEnds = 1 << 31

  /// Parts of a pass claimed in turn, at most (bits 16–30 of the word).
  static let mostInTurn = (1 << 15) - 1

  /// The low word of a pass of `parts` parts claimed in turn.
  static func inTurn(parts: Int) -> Int {
    precondition(parts <= mostInTurn, "too many parts")
    return parts << 16
  }

  /// The low word of a pass of `units` parts claimed from both ends.
  static func fromBothEnds(units: Int) -> Int {
    precondition((1...Self.units).contains(units), "parts from both ends: 1 to \(Self.units)")
    return bothEnds | units << 16 | units << 8
  }

  /// The parts in all, of either kind of pass.
  static func parts(_ word: Int) -> Int { word & bothEnds == 0 ? (word >> 16) & 0x7fff : (word >> 16) & 0xff }

  /// The next claim from `word`'s pass and the word after it; nil when every part is claimed
  /// (for a worker, also when all that is left is the caller's kept home). `fromBack`: a
  /// worker's claim (the caller's is from the front).
  static func next(_ word: Int, fromBack: Bool) -> (parts: Range<Int>, word: Int)? {
    if word & bothEnds == 0 {
      let part = word & 0xffff
      guard part < parts(word) else { return nil }
      return (part..<part + 1, word + 1)
    }
    let (front, back, units) = (word & 0xff, (word >> 8) & 0xff, parts(word))
    let home = units * 7 / 16
    // Until the caller's first claim its home is kept for it (its first part when there is no
    // home): a worker that comes first takes from its own end only.
    let floor = fromBack && front == 0 ? Swift.max(home, 1) : front
    guard floor < back else { return nil }
    let first = fromBack ? back == units : front == 0
    let size = first && home > 0 ? Swift.min(home, back - floor) : Swift.max(1, (back - floor) / 2)
    return fromBack ? (back - size..<back, word - (size << 8)) : (front..<front + size, word + size)
  }
}
