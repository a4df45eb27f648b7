import FedData
import FedSimCore
import FedSimKit
import FedServer
import FedClient
import AdversaryRole
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

  @Test("the native libraries are linked and report their versions")
  func nativeLibraries() {
    #expect(NativeLibraries.zeroMQ.split(separator: ".").count == 3)
    #expect(NativeLibraries.zeroMQ.hasPrefix("4."))
    #expect(NativeLibraries.openBLAS.contains("OpenBLAS"))
  }
}
