import Foundation
import FedData
import FedSimCore
import FedSimKit
import FedServer
import FedClient
import AdversaryRole
import Tensors
import TestSupport
import Testing

@Suite("fedsim bench and native libraries")
struct BenchmarkTests {
  @Test("a benchmark case runs and reports what it measured")
  func benchmarkCaseRuns() {
    let r = DLGBenchmark.run(DLGBenchmarkCase(batch: 2, classes: 5), evals: 3, warmup: 1)
    #expect(r.batch == 2 && r.classes == 5 && r.evals == 3 && r.loss == "l2")
    #expect(r.msPerEval > 0 && r.msPerEval.isFinite)
    #expect(r.peakRSSMiB >= r.rssEndMiB && r.rssEndMiB > 0)
  }

  @Test("an evaluation's parts: medians over rounds per evaluation, their ratios, their shares of one thread's time")
  func scalingParts() {
    func split(_ products: Double, _ passes: Double, _ total: Double) -> KernelTimes.Split {
      var s = KernelTimes.Split()
      (s.products, s.passes, s.total) = (products, passes, total)
      return s
    }
    // Two evaluations a round; three rounds, the medians from the middle ones.
    let one = [split(0.6, 0.2, 1.0), split(0.8, 0.4, 1.4), split(0.7, 0.3, 1.2)]
    let many = [split(0.4, 0.2, 0.7), split(0.35, 0.15, 0.6), split(0.3, 0.1, 0.5)]
    let parts = BigModelScaling.parts(one: one, many: many, evals: 2)
    #expect(parts.map(\.name) == ["products", "passes", "rest"])
    #expect(abs(parts[0].oneThreadMs - 350) < 1e-9 && abs(parts[0].threadsMs - 175) < 1e-9)
    #expect(abs(parts[1].oneThreadMs - 150) < 1e-9 && abs(parts[1].threadsMs - 75) < 1e-9)
    #expect(abs(parts[2].oneThreadMs - 100) < 1e-9 && abs(parts[2].threadsMs - 50) < 1e-9)
    #expect(parts.allSatisfy { abs($0.ratio - 2) < 1e-9 })
    #expect(abs(parts[0].share - 7.0 / 12) < 1e-9 && abs(parts.map(\.share).reduce(0, +) - 1) < 1e-9)
  }

  @Test("the split work's thread time: the measured thread's less its waits plus its helpers', against one thread's")
  func scalingThreadWork() {
    func split(_ products: Double, _ passes: Double, waiting: Double = 0, helped: Double = 0) -> KernelTimes.Split {
      var s = KernelTimes.Split()
      (s.products, s.passes, s.total, s.waiting, s.helped) = (products, passes, products + passes + 0.1, waiting, helped)
      return s
    }
    // Two evaluations a round; the medians from the middle rounds.
    let one = [split(0.6, 0.2), split(0.8, 0.4), split(0.7, 0.3)]
    let many = [
      split(0.4, 0.2, waiting: 0.06, helped: 0.5), split(0.35, 0.15, waiting: 0.05, helped: 0.6),
      split(0.3, 0.1, waiting: 0.02, helped: 0.4),
    ]
    let w = BigModelScaling.threadWork(one: one, many: many, evals: 2)
    #expect(abs(w.oneThreadMs - 500) < 1e-9)
    #expect(abs(w.threadsMs - 520) < 1e-9)  // rounds 1.04, 1.05, 0.78: (0.6 − 0.06 + 0.5) / 2
    #expect(abs(w.ratio - 1.04) < 1e-9)
    #expect(abs(w.share - 0.1) < 1e-9)  // waits over the split work, per round: 0.1, 0.1, 0.05
  }

  @Test("the scaling ceiling: the throughput of independent evaluations at once against one alone")
  func scalingCeiling() {
    #expect(abs(BigModelScaling.ceiling(oneThreadMs: 300, concurrentMs: 360, threads: 2) - 5.0 / 3) < 1e-12)
    #expect(abs(BigModelScaling.ceiling(oneThreadMs: 300, concurrentMs: 300, threads: 3) - 3) < 1e-12)
  }

  @Test("rounds grouped by where the cores were: nearest, farther, moved during the round")
  func scalingPlacements() throws {
    let before: [Double?] = [40, 170, 45, 168, 58]
    let after: [Double?] = [42, 166, 171, 44, 60]
    let placements = try #require(BigModelScaling.placements(before: before, after: after))
    #expect(placements == [.nearest, .farther, .moved, .moved, .nearest])
    let (near, nearCount) = BigModelScaling.ratio([1.7, 1.4, 1.5, 1.6, 1.8], in: placements, .nearest)
    #expect(nearCount == 2 && abs(near - 1.75) < 1e-12)
    let (far, farCount) = BigModelScaling.ratio([1.7, 1.4, 1.5, 1.6, 1.8], in: placements, .farther)
    #expect(farCount == 1 && far == 1.4)
    // One placement all run, near or far: alike, never nearest (a run spent apart is not near);
    // a missing reading (one CPU): no grouping.
    #expect(BigModelScaling.placements(before: [170, 168], after: [169, 172]) == [.alike, .alike])
    #expect(BigModelScaling.placements(before: [40, 41], after: [58, 39]) == [.alike, .alike])  // 39 × 1.5 = 58.5
    #expect(BigModelScaling.placements(before: [40, 41], after: [61, 39]) == [.moved, .nearest])
    #expect(BigModelScaling.placements(before: [40, nil], after: [41, 42]) == nil)
  }

  @Test("rounds grouped by whether the two CPUs were two whole cores, before and after")
  func scalingWholeCores() throws {
    let before: [Double?] = [2.0, 1.02, 1.95, 1.69, 1.7]
    let after: [Double?] = [1.93, 1.9, 1.1, 2.0, 1.7]
    let whole = try #require(BigModelScaling.onWholeCores(before: before, after: after))
    #expect(whole == [true, false, false, false, true])
    let ratios = [1.8, 1.3, 1.5, 1.6, 1.9]
    let (onWhole, wholeCount) = BigModelScaling.ratio(ratios, in: whole, true)
    #expect(wholeCount == 2 && abs(onWhole - 1.85) < 1e-12)
    let (shared, sharedCount) = BigModelScaling.ratio(ratios, in: whole, false)
    #expect(sharedCount == 3 && shared == 1.5)
    #expect(BigModelScaling.onWholeCores(before: [2.0, nil], after: [2.0, 2.0]) == nil)
    #expect(BigModelScaling.onWholeCores(before: [2.0], after: [nil]) == nil)
  }

  @Test("the core-sharing probe: a ratio near one or two on a machine of two CPUs or more")
  func coreSharing() {
    guard let r = CoreSharing.ratio(milliseconds: 5) else {
      #expect(
        ProcessInfo.processInfo.activeProcessorCount < 2 || !CoreSharing.available,
        "the probe failed on a machine of several CPUs with AVX2")
      return
    }
    // Other tests' threads share the CPUs meanwhile (each loop's rate is its FMAs over wall
    // time), so only a broad range holds: positive, finite, not many times more than two.
    #expect(r.isFinite && r > 0.02 && r < 10, "\(r)")
  }

  @Test("the cores' latency probe: a positive time on a machine of two CPUs or more, within its limit")
  func coreLatency() throws {
    guard let ns = CoreLatency.nanoseconds(passes: 2_000) else {
      #expect(ProcessInfo.processInfo.activeProcessorCount < 2, "the probe failed on a machine of several CPUs")
      return
    }
    // No upper bound on the reading: with the CPUs busy (tests run in parallel) a pass waits for
    // the scheduler, milliseconds. What holds: a positive time, and the limit on the rally: 2^31
    // passes each way take seconds at any latency (about 170 s at 40 ns), so at a 20 ms limit the
    // rally stops after some passes and before them all.
    #expect(ns > 1 && ns.isFinite)
    let long = try #require(CoreLatency.read(passes: Int(Int32.max), limitMs: 20))
    #expect(long.nanoseconds > 1 && long.nanoseconds.isFinite)
    #expect(long.passes >= 64 && long.passes < Int(Int32.max), "stopped at the limit: \(long.passes) passes")
    let median = try #require(BigModelScaling.coreLatency(readings: 3))
    #expect(median > 1 && median.isFinite)
  }

  @Test("independent evaluations at once: each thread's give the value one evaluation alone gives")
  func concurrentEvaluations() throws {
    // It leaves one BLAS thread set: held, so that no other test's count changes under it.
    let hold = BLASThreadsHold()
    defer { hold.release() }
    let prepared = try BigModelBenchmark.Prepared(BigModelBenchmark.Case(model: "resnet18", size: 32, batch: 1))
    let alone = prepared.concurrentEvaluations(1, copies: 1)
    let together = prepared.concurrentEvaluations(2, copies: 2)
    #expect(alone.times.count == 1 && alone.values.count == 1)
    #expect(together.times.count == 4 && together.values.count == 2)
    #expect(together.times.allSatisfy { $0 > 0 && $0.isFinite })
    let value = try #require(alone.values.first)
    #expect(value.isFinite && value > 0)
    // Each index of every kernel is computed from its own inputs; only the distance's sum may
    // regroup (in Double) if another test changes the thread count meanwhile.
    #expect(together.values.allSatisfy { abs($0 - value) <= 1e-6 * value })
  }

  @Test("PyTorch beside FedSim: the means' ratio, each round's, and their median, which one disturbed round does not move")
  func torchComparison() {
    var r = BigModelBenchmark.Result(
      model: "m", size: 32, batch: 1, parameters: 1, threads: 1, evals: 9, msPerEval: 300, bestMs: 190, gflopPerEval: 1,
      peakGFLOPs: 100, floorMs: 10, peakRSSMiB: 100)
    // The host slowed FedSim's second round (500 ms) and not PyTorch's after it.
    r.compare(torch: [(400, 900), (420, nil), (410, 950)], ours: [200, 500, 200])
    #expect(abs((r.torchMsPerEval ?? 0) - 410) < 1e-9 && r.torchPeakRSSMiB == 950)
    #expect(abs((r.speedupOverTorch ?? 0) - 410.0 / 300) < 1e-9)
    #expect(r.roundSpeedups == [2, 0.84, 2.05])
    #expect(r.medianRoundSpeedup == 2)
    // Without PyTorch's figures (no --torch), or not one a round, nothing is compared.
    var alone = r
    (alone.torchMsPerEval, alone.medianRoundSpeedup) = (nil, nil)
    alone.compare(torch: [], ours: [200])
    alone.compare(torch: [(400, nil)], ours: [200, 300])
    #expect(alone.torchMsPerEval == nil && alone.medianRoundSpeedup == nil)
  }

  @Test("an add pass's time from its rate: two arrays read, one written")
  func passMicroseconds() {
    #expect(abs(BandwidthScaling.micros(("x", 1000, 1), 3) - 1) < 1e-12)
    #expect(abs(BandwidthScaling.micros(BandwidthScaling.short, 196.608) - 1) < 1e-12)
  }

  @Test("the native libraries are linked and report their versions")
  func nativeLibraries() {
    #expect(NativeLibraries.zeroMQ.split(separator: ".").count == 3)
    #expect(NativeLibraries.zeroMQ.hasPrefix("4."))
    #expect(NativeLibraries.openBLAS.contains("OpenBLAS"))
    // The kernels chosen at load: named, and the SSE3 fallback (an unknown CPU) says how to pick others.
    let kernels = NativeLibraries.openBLASKernels
    #expect(!kernels.isEmpty && kernels != "unknown")
    #expect(kernels.hasPrefix("Prescott") == kernels.contains("OPENBLAS_CORETYPE"), "\(kernels)")
  }

  @Test("the layers' rows per evaluation: ms, calls, rate and share, the longest first")
  func layerRows() {
    func row(_ work: String, calls: Int, seconds: Double, flops: Int) -> LayerTimes.Row {
      var r = LayerTimes.Row(work: work)
      (r.calls, r.seconds, r.flops) = (calls, seconds, flops)
      return r
    }
    // Two evaluations of 100 ms each; the rows as LayerTimes gives them over both.
    let r = BigModelLayers.result(
      model: "m", threads: 1, times: [100, 100],
      rows: [row("a", calls: 6, seconds: 0.02, flops: 2_000_000_000), row("b", calls: 2, seconds: 0.1, flops: 0)])
    #expect(r.msPerEval == 100 && r.evals == 2)
    #expect(r.rows.map(\.work) == ["b", "a"])
    #expect(abs(r.rows[0].msPerEval - 50) < 1e-9 && abs(r.rows[0].share - 0.5) < 1e-9)
    #expect(abs(r.rows[1].msPerEval - 10) < 1e-9 && r.rows[1].callsPerEval == 3)
    #expect(abs(r.rows[1].gflops - 100) < 1e-9)
    #expect(abs(r.productMsPerEval - 60) < 1e-9)
  }
}
