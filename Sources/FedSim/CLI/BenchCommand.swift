import FedSimKit
import FedData
import ArgumentParser
import FedSimCore
import Foundation
import Tensors

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Time the DLG objective and its gradient on the DLG LeNet.",
    discussion: """
      Examples:
        fedsim bench
        fedsim bench --evals 200 --no-attack --no-transfer
        fedsim bench --torch ../torch-venv/bin/python --threads 1
        fedsim bench --big-models --no-dlg --no-training --no-attack --no-transfer --torch ../torch-venv/bin/python
      """)

  @Flag(help: "Print one JSON object per line.") var json = false
  @Option(help: "Timed evaluations per batch-1 case (batch 8 runs a quarter as many).") var evals = 1000
  @Option(help: "Threads for the products and the passes between them, 1 to four a core (default: OPENBLAS_NUM_THREADS, else 1).") var threads: Int?
  @Option(help: "A Python with torch, to time the PyTorch anchor beside FedSim in the same run.")
  var torch: String?
  @Option(help: "The folder of the PyTorch anchor scripts.") var anchors = "../shared/anchors"
  @Option(help: "Run only the cases with this batch size.") var batch: Int?
  @Option(help: "Run only the cases with this many classes.") var classes: Int?
  @Flag(inversion: .prefixedNo, help: "Time the DLG objective cases.")
  var dlg = true
  @Flag(inversion: .prefixedNo, help: "Also time LeNet-ReLU training on MNIST-shaped input.")
  var training = true
  @Option(help: "The model the training case trains: lenet or fedavg_cnn (PyTorch is timed for lenet only).")
  var trainModel = "lenet"
  @Option(help: "The training case's batch size.") var trainBatch = 64
  @Flag(inversion: .prefixedNo, help: "Also time a ResNet-18-sized update going client → server → adversary.")
  var transfer = true
  @Flag(inversion: .prefixedNo, help: "Also time a whole 300-step DLG attack on a CIFAR-100 image.")
  var attack = true
  @Option(help: "The CIFAR-100 test file for the attack (the built-in shapes when it is missing).")
  var attackData = "../shared/data/cifar-100/test.bin"
  @Option(help: "The image the attack reconstructs.") var attackImage = 0
  @Flag(help: "Also time one DLG evaluation on ResNet-18 (224), DenseNet-121 (224) and Inception-v3 (299, batch 2), sigmoid.")
  var bigModels = false
  @Option(help: "Timed evaluations per big model.") var bigEvals = 5
  @Option(help: "Time only this big model (resnet18, densenet121 or inception_v3).") var bigModel: String?
  @Option(help: "Rounds of --big-evals evaluations per big model, PyTorch's timed after each of FedSim's (with --torch), so each round's ratio is taken in one state of the machine.")
  var bigRounds = 1
  @Flag(help: "With --big-models: also time each model's --big-rounds rounds at one thread and at --threads (2 or more), alternated in this process, and print how much faster --threads are (the median of the rounds' ratios), for the whole evaluation and for its parts (products, passes, the rest); then the same for a memory-bound pass over arrays in cache and from memory (2 × 64 MiB).")
  var bigScaling = false
  @Flag(help: "With --big-models: also time --big-evals evaluations at --threads work by work (each convolution pass by shape and by the way it is computed, each other matrix product) and print the longest, in ms an evaluation and GFLOP/s, with the rest of the evaluation (passes and bookkeeping).")
  var bigLayers = false

  func validate() throws {
    guard evals >= 1, bigEvals >= 1, bigRounds >= 1 else { throw ValidationError("--evals, --big-evals and --big-rounds must be at least 1") }
    if !(1...ScenarioLimits.localBatch).contains(trainBatch) {
      throw ValidationError("--train-batch must be 1 to \(ScenarioLimits.localBatch), as a scenario's local batch")
    }
    let resolved = try ThreadsOption.resolve(threads)
    if bigScaling && resolved < 2 { throw ValidationError("--big-scaling compares --threads (2 or more) with one thread") }
    if bigScaling && !bigModels { throw ValidationError("--big-scaling goes with --big-models") }
    if bigLayers && !bigModels { throw ValidationError("--big-layers goes with --big-models") }
    if let bigModel, !BigModelBenchmark.Case.standard.contains(where: { $0.model == bigModel }) {
      throw ValidationError("--big-model is one of resnet18, densenet121, inception_v3")
    }
    if let torch { try validateAnchors(python: torch) }
  }

  /// With `--torch`: the Python and every anchor script the chosen benchmarks run are there, so
  /// that a wrong path stops the bench before FedSim's half runs, naming what is missing.
  private func validateAnchors(python: String) throws {
    let scripts = [
      (dlg, TorchAnchor.Script.dlgEvaluations), (training, TorchAnchor.Script.training),
      (attack, TorchAnchor.Script.attack), (bigModels, TorchAnchor.Script.bigModels),
    ].filter(\.0).map(\.1)
    do { try TorchAnchor(python: python, anchorsDirectory: anchors).check(scripts: scripts) } catch {
      throw ValidationError(error.message)
    }
  }

  func run() throws {
    let threads = try ThreadsOption.resolve(threads)
    BLAS.threads = threads
    // Figures from machines of one name can differ twofold (docs/results.md): say which this is.
    if !json {
      print("machine: \(ProcessInfo.processInfo.activeProcessorCount) × \(CPUDescription.current)")
      print("OpenBLAS kernels: \(NativeLibraries.openBLASKernels)")
    }
    let anchor = torch.map { TorchAnchor(python: $0, anchorsDirectory: anchors) }
    let cases = DLGBenchmarkCase.standard.filter {
      dlg && (batch == nil || $0.batch == batch) && (classes == nil || $0.classes == classes)
    }
    if dlg && cases.isEmpty { throw ValidationError("no benchmark case has that batch size and class count") }
    for c in cases { try benchObjective(c, threads: threads, anchor: anchor) }
    if training { try benchTraining(threads: threads, anchor: anchor) }
    if attack { try benchAttack(threads: threads, anchor: anchor) }
    if bigModels {
      let chosen = BigModelBenchmark.Case.standard.filter { bigModel == nil || $0.model == bigModel }
      let peak = BLAS.peakGFLOPs()
      for c in chosen { try benchBigModel(c, threads: threads, anchor: anchor, peak: peak) }
      // After the models, so that its arrays are not in their peak memory.
      if bigScaling { try printBandwidth(BandwidthScaling.run(threads: threads, rounds: bigRounds)) }
    }
    if transfer {
      let r = try TransferBenchmark.run()
      if json {
        try printJSONLine(r)
      } else {
        print(String(format: "update transfer  client → server → adversary over loopback  %d parameters (%.1f MB)  %.3f s", r.parameters, r.megabytes, r.seconds))
      }
    }
    if !json { print(String(format: "peak memory: %.1f MiB", ProcessMemory.peakMiB())) }
  }

  func benchObjective(_ c: DLGBenchmarkCase, threads: Int, anchor: TorchAnchor?) throws {
    let n = c.batch == 1 ? evals : Swift.max(1, evals / 4)
    var r = DLGBenchmark.run(c, evals: n)
    // The anchor has l2, cosine and the sorted-values Wasserstein, not WDLG's distance.
    if let anchor, c.distance != .wasserstein {
      let t = try anchor.run(
        script: TorchAnchor.Script.dlgEvaluations,
        arguments: [
          "--threads", "\(threads)", "--evals", "\(n)", "--batch", "\(c.batch)",
          "--classes", "\(c.classes)", "--loss", c.distance.rawValue,
        ], threads: threads)
      r.torchMsPerEval = t["ms_per_eval"] as? Double
      r.speedupOverTorch = r.torchMsPerEval.map { $0 / r.msPerEval }
    }
    if json { return try printJSONLine(r) }
    var line = String(
      format: "DLG objective  lenet %dx%dx%d  batch %d  classes %3d  %@  %.3f ms/eval  (%d evals, %d thread%@)",
      r.channels, r.size, r.size, r.batch, r.classes, r.loss, r.msPerEval, r.evals, r.threads,
      r.threads == 1 ? "" : "s")
    if let t = r.torchMsPerEval, let s = r.speedupOverTorch {
      line += String(format: "  pytorch %.3f ms  ×%.1f", t, s)
    } else if anchor != nil {
      line += "  pytorch: no anchor for this distance"
    }
    print(line + String(
      format: "  rss %.1f→%.1f MiB  products %.1f MFLOP at %.0f GFLOP/s", r.rssStartMiB, r.rssEndMiB,
      r.productMFLOPPerEval, r.productMFLOPPerEval / r.msPerEval))
  }

  /// `--big-rounds` rounds of `--big-evals` evaluations, PyTorch's script run after each of
  /// FedSim's: each round's ratio compares two figures taken a minute apart at most.
  func benchBigModel(_ c: BigModelBenchmark.Case, threads: Int, anchor: TorchAnchor?, peak: Double) throws {
    var prepared = try BigModelBenchmark.Prepared(c)
    var torch: [(ms: Double, peak: Double?)] = []
    var ours: [Double] = []
    for _ in 0..<bigRounds {
      ours.append(prepared.time(evals: bigEvals))
      guard let anchor else { continue }
      let t = try anchor.run(
        script: TorchAnchor.Script.bigModels, arguments: [c.model, "\(c.size)", "--threads", "\(threads)", "--evals", "\(bigEvals)"],
        threads: threads)
      guard let ms = t["ms_per_eval"] as? Double else { throw fail("\(TorchAnchor.Script.bigModels) printed no ms_per_eval") }
      torch.append((ms, t["anchor_peak_rss_mib"] as? Double))
    }
    var r = prepared.result(peak: peak)
    r.compare(torch: torch, ours: ours)
    try printBigModel(r)
    if bigLayers { try printLayers(BigModelLayers.run(prepared, evals: bigEvals)) }
    if bigScaling { try printScaling(BigModelScaling.run(prepared, threads: threads, rounds: bigRounds, evals: bigEvals)) }
  }

  func printBigModel(_ r: BigModelBenchmark.Result) throws {
    if json { return try printJSONLine(r) }
    var line = String(
      format: "DLG objective  %@ 3x%dx%d  batch %d  sigmoid  %.0f ms/eval, best %.0f  (%d evals, %d thread%@, peak %.0f MiB; "
        + "%.1f GFLOP of products, floor %.0f ms at %.0f GFLOP/s)",
      r.model, r.size, r.size, r.batch, r.msPerEval, r.bestMs, r.evals, r.threads, r.threads == 1 ? "" : "s", r.peakRSSMiB,
      r.gflopPerEval, r.floorMs, r.peakGFLOPs)
    if let t = r.torchMsPerEval, let s = r.speedupOverTorch {
      line += String(format: "  pytorch %.0f ms (peak %.0f MiB)  ×%.2f", t, r.torchPeakRSSMiB ?? .nan, s)
      if let rounds = r.roundSpeedups, let median = r.medianRoundSpeedup, rounds.count > 1 {
        let each = rounds.map { String(format: "×%.2f", $0) }.joined(separator: " ")
        line += String(format: " over the means, ×%.2f the median of rounds (%@)", median, each)
      }
    }
    print(line)
  }

  func printScaling(_ r: BigModelScaling.Result) throws {
    if json { return try printJSONLine(r) }
    let rounds = r.roundRatios.map { String(format: "×%.2f", $0) }.joined(separator: " ")
    let one = BigModelScaling.median(r.oneThreadMs), many = BigModelScaling.median(r.threadsMs)
    print(String(
      format: "scaling  %@  1 → %d threads  ×%.2f  (median of rounds %@; medians %.0f / %.0f ms, %d evals a round at each)",
      r.model, r.threads, r.ratio, rounds, one, many, r.evalsPerRound))
    let parts = r.parts.map {
      String(format: "%@ %.0f / %.0f ms ×%.2f (%.0f%%)", $0.name, $0.oneThreadMs, $0.threadsMs, $0.ratio, 100 * $0.share)
    }
    print("  parts of an evaluation, 1 / \(r.threads) threads: " + parts.joined(separator: ", "))
    let w = r.threadWork
    print(String(
      format: "  thread time of products and passes, 1 / %d threads: %.0f / %.0f ms (×%.2f: each thread's share ran that much slower than alone), waits %.1f%% of it",
      r.threads, w.oneThreadMs, w.threadsMs, w.ratio, 100 * w.share))
    let passes = zip(zip(r.roundPassRatios, r.roundMemoryRatios), r.roundShortPassMicroseconds).map {
      String(format: "×%.2f / ×%.2f / %.1f µs", $0.0, $0.1, $1)
    }
    print(
      "  each round, passes / an add pass from memory right after / a short add pass at \(r.threads) threads: "
        + passes.joined(separator: ", "))
    let ceilings = r.roundCeilings.map { String(format: "×%.2f", $0) }.joined(separator: " ")
    print(String(
      format: "  ceiling: %d independent evaluations at once, one a thread, ×%.2f one's throughput (rounds %@; %.0f ms each, %.0f alone): the split reached %.0f%% of it",
      r.threads, r.ceiling, ceilings, BigModelScaling.median(r.roundConcurrentMs), one, 100 * r.ofCeiling))
    printPlacements(r)
    printSharing(r)
  }

  /// The cores' latency around each round, and the ratio over the rounds of each placement.
  func printPlacements(_ r: BigModelScaling.Result) {
    guard let placements = r.roundPlacements else {
      return print("  placement: the cores' latency could not be read (fewer than two CPUs?)")
    }
    let latencies = zip(r.roundCoreLatencyBefore, r.roundCoreLatencyAfter).map {
      String(format: "%.0f/%.0f", $0 ?? .nan, $1 ?? .nan)
    }
    let head = "  placement: the cores' latency before/after each round " + latencies.joined(separator: ", ") + " ns; "
    if placements.allSatisfy({ $0 == .alike }) {
      let ns = BigModelScaling.median((r.roundCoreLatencyBefore + r.roundCoreLatencyAfter).compactMap { $0 })
      return print(head + String(
        format: "one placement all run (all within ×%.1f of the least, median %.0f ns): no nearer or farther rounds to compare, ×%.2f",
        BigModelScaling.nearestSpread, ns, r.ratio))
    }
    let groups = [BigModelScaling.Placement.nearest, .farther, .moved].map { p -> String in
      let (ratio, count) = BigModelScaling.ratio(r.roundRatios, in: placements, p)
      return count == 0 ? "\(p.rawValue) 0 rounds" : String(format: "%@ %d rounds ×%.2f", p.rawValue, count, ratio)
    }
    print(
      head + "median ratio by placement (nearest: both within ×\(BigModelScaling.nearestSpread) of the least): "
        + groups.joined(separator: ", "))
  }

  func printBandwidth(_ results: [BandwidthScaling.Result]) throws {
    for r in results {
      if json {
        try printJSONLine(r)
        continue
      }
      let size = r.megabytes < 1 ? String(format: "%.0f KiB", r.megabytes * 1024) : String(format: "%.0f MiB", r.megabytes)
      let place = ["short": "in L2, short", "cache": "in cache", "memory": "from memory"][r.placement] ?? r.placement
      print(String(
        format: "bandwidth  add pass over 2 × %@ (%@)  1 → %d threads  ×%.2f  (%.0f → %.0f GB/s, %.1f → %.1f µs a pass, medians of %d rounds)",
        size, place, r.threads, r.ratio, r.oneThreadGBps, r.threadsGBps, r.oneThreadMicroseconds, r.threadsMicroseconds,
        bigRounds))
    }
  }

  func benchTraining(threads: Int, anchor: TorchAnchor?) throws {
    var r = try TrainingBenchmark.run(model: trainModel, batch: trainBatch, steps: Swift.max(20, evals / 4))
    if let anchor, trainModel == "lenet" {
      let t = try anchor.run(script: TorchAnchor.Script.training, arguments: ["\(threads)", "\(trainBatch)"], threads: threads)
      r.torchImagesPerSecond = t["images_per_s"] as? Double
      r.speedupOverTorch = r.torchImagesPerSecond.map { r.imagesPerSecond / $0 }
    }
    if json { return try printJSONLine(r) }
    var line = String(
      format: "%@ training  1x28x28  batch %d  SGD  %.0f images/s  (%d steps, %d thread%@; products %.0f MFLOP a step at %.0f GFLOP/s)",
      r.model, r.batch, r.imagesPerSecond, r.steps, r.threads, r.threads == 1 ? "" : "s", r.productMFLOPPerStep,
      r.productMFLOPPerStep * r.imagesPerSecond / Double(r.batch) / 1000)
    if let t = r.torchImagesPerSecond, let s = r.speedupOverTorch {
      line += String(format: "  pytorch %.0f images/s  ×%.1f", t, s)
    }
    print(line)
  }

  func benchAttack(threads: Int, anchor: TorchAnchor?) throws {
    let real = FileManager.default.fileExists(atPath: attackData)
    let dataset = try loadDataset(real ? attackData : "shapes")
    guard attackImage >= 0 && attackImage < dataset.count else {
      throw ValidationError("--attack-image must be below \(dataset.count)")
    }
    var r = try AttackBenchmark.run(dataset: dataset, source: real ? attackData : "shapes", index: attackImage)
    if let anchor, real {
      let t = try anchor.run(
        script: TorchAnchor.Script.attack,
        arguments: [
          "--image-file", URL(fileURLWithPath: attackData).standardizedFileURL.path, "--index", "\(attackImage)", "--classes", "100",
          "--threads", "\(threads)",
        ], threads: threads)
      r.torchWallSeconds = t["wall_s"] as? Double
      r.torchEvaluations = t["closure_evals"] as? Int
      r.torchPSNR = t["psnr"] as? Double
      r.speedupOverTorch = r.torchWallSeconds.map { $0 / r.wallSeconds }
    }
    if json {
      try printJSONLine(r)
    } else {
      var line = String(
        format: "DLG attack  lenet 3x32x32  %@ image %d  %d classes  %d steps  %.2f s  (%d evals, %.3f ms/eval, PSNR %.1f dB)",
        real ? "cifar-100" : "shapes", r.index, r.classes, r.iterations, r.wallSeconds, r.evaluations, r.msPerEval, r.psnr)
      if let t = r.torchWallSeconds, let s = r.speedupOverTorch {
        line += String(format: "  pytorch %.2f s (%d evals, PSNR %.1f dB)  ×%.1f", t, r.torchEvaluations ?? 0, r.torchPSNR ?? .nan, s)
      }
      print(line)
    }
  }
}
