import Tensors

/// The tensors `tools/make_model_reference.py` draws, drawn again: SplitMix64 seeded by
/// FNV-1a-64 of the tensor's name XOR the case seed, with a range chosen by the name (batch-norm
/// scales and running variances in [0.5, 1.5), biases and running means in [−0.2, 0.2),
/// weights in ±√(3/fan-in), anything else in [−1, 1)).
public enum DeterministicTensors {
  public static func fnv1a(_ name: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
  }

  public static func make(_ name: String, shape: [Int], seed: UInt64) -> Tensor {
    let last = name.split(separator: ".").last.map(String.init) ?? name
    if last == "num_batches_tracked" { return .zeros(shape) }
    let (lo, hi): (Float, Float)
    if last == "running_var" || (last == "weight" && shape.count == 1) {
      (lo, hi) = (0.5, 1.5)
    } else if last == "running_mean" || last == "bias" {
      (lo, hi) = (-0.2, 0.2)
    } else if last == "weight" {
      let b = (3 / Float(shape.dropFirst().reduce(1, *))).squareRoot()
      (lo, hi) = (-b, b)
    } else {
      (lo, hi) = (-1, 1)
    }
    var gen = SeededGenerator(seed: fnv1a(name) ^ seed)
    return .uniform(shape, low: lo, high: hi, using: &gen)
  }
}
