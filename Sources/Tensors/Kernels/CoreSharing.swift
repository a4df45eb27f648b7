import CGatherProduct

/// Whether the first two CPUs this process may use are two whole cores: how many times one CPU's
/// FMAs the two issue at once (`fedsim_core_sharing`). A virtual machine's host may run its two
/// virtual CPUs on one core for minutes at a time, while the guest still sees two cores; work
/// split over two threads then gains little, and `fedsim bench --big-scaling` reads this before
/// and after each round to tell those rounds apart (docs/results.md).
public enum CoreSharing {
  /// Whether the probe's loop can run here: the CPU has AVX2 and FMA (the check
  /// `fedsim_core_sharing` makes itself).
  public static var available: Bool { fedsim_gather_product_available() != 0 }

  /// The ratio (about 2 on two whole cores, about 1 on one shared core) over `milliseconds` of
  /// each loop; nil with fewer than two CPUs or without AVX2 and FMA.
  public static func ratio(milliseconds: Double = 20) -> Double? {
    precondition(milliseconds > 0 && milliseconds < 60_000, "CoreSharing: 0 to a minute a loop")
    let r = fedsim_core_sharing(Int64(milliseconds * 1e6))
    return r > 0 ? r : nil
  }
}
