import FedSimKit
import Foundation

extension Bench {
  /// Two CPUs' FMAs at once over one's around each round, and the ratio over the rounds run on
  /// two whole cores and over the others.
  func printSharing(_ r: BigModelScaling.Result) {
    guard let whole = r.roundOnWholeCores else {
      return print("  cores: whether the two CPUs share one core could not be read (fewer than two CPUs, or no AVX2?)")
    }
    let readings = zip(r.roundCoreSharingBefore, r.roundCoreSharingAfter).map {
      String(format: "×%.2f/×%.2f", $0 ?? .nan, $1 ?? .nan)
    }
    let groups = [(true, "on two whole cores"), (false, "on a shared core, or moved")].map { onWhole, name -> String in
      let (ratio, count) = BigModelScaling.ratio(r.roundRatios, in: whole, onWhole)
      return count == 0 ? "\(name) 0 rounds" : String(format: "%@ %d rounds ×%.2f", name, count, ratio)
    }
    print(
      "  cores: two CPUs' FMAs at once over one's, before/after each round " + readings.joined(separator: ", ")
        + String(format: "; median ratio (whole: both readings ≥ ×%.1f): ", BigModelScaling.wholeCores)
        + groups.joined(separator: ", "))
  }
}
