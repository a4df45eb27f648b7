import FedSimKit
import Testing

@Suite("CPU description for run metadata and the bench")
struct CPUDescriptionTests {
  @Test("a masked name gets its family, model and widest vectors, from the first processor only")
  func maskedName() {
    let text = """
      processor\t: 0
      vendor_id\t: AuthenticAMD
      cpu family\t: 25
      model\t\t: 17
      model name\t: AMD EPYC
      flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw

      processor\t: 1
      cpu family\t: 26
      model\t\t: 2
      model name\t: Other
      flags\t\t: fpu
      """
    #expect(CPUDescription.describe(cpuinfo: text) == "AMD EPYC (family 25, model 17, AVX-512)")
  }

  @Test("AVX2 without AVX-512, neither, and no name at all")
  func vectorWidths() {
    let haswell = "cpu family\t: 6\nmodel\t\t: 60\nmodel name\t: Intel(R) Core(TM) i7-4770 CPU @ 3.40GHz\nflags\t\t: sse avx avx2\n"
    #expect(CPUDescription.describe(cpuinfo: haswell) == "Intel(R) Core(TM) i7-4770 CPU @ 3.40GHz (family 6, model 60, AVX2)")
    let old = "model name\t: Old\nflags\t\t: sse sse2 avx\n"
    #expect(CPUDescription.describe(cpuinfo: old) == "Old (no AVX2)")
    let arm = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd\n"
    #expect(CPUDescription.describe(cpuinfo: arm) == "unknown CPU")
    #expect(CPUDescription.describe(cpuinfo: "") == "unknown CPU")
  }
}
