import Foundation

/// What a machine's CPU is, for run metadata and the bench: its model name, its family and model
/// numbers, and its widest vector instructions. A hypervisor may mask the name ("AMD EPYC" on a
/// Zen 4 and on a Zen 5 alike), and those differ where speed is concerned: Zen 5 does twice the
/// multiply-adds a cycle in AVX-512 that Zen 4 does (docs/results.md). The numbers tell them
/// apart: family 25 model 17 is a Zen 4, family 26 a Zen 5.
public enum CPUDescription {
  /// "AMD EPYC (family 25, model 17, AVX-512)", from the first processor of `cpuinfo`'s text;
  /// "unknown CPU" when it names none.
  public static func describe(cpuinfo: String) -> String {
    let first = cpuinfo.components(separatedBy: "\n\n").first ?? ""
    var fields: [String: String] = [:]
    for line in first.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1)
      guard parts.count == 2 else { continue }
      let key = parts[0].trimmingCharacters(in: .whitespaces)
      if fields[key] == nil { fields[key] = parts[1].trimmingCharacters(in: .whitespaces) }
    }
    let name = fields["model name"].flatMap { $0.isEmpty ? nil : $0 } ?? "unknown CPU"
    var details: [String] = []
    if let family = fields["cpu family"] { details.append("family \(family)") }
    if let model = fields["model"] { details.append("model \(model)") }
    if let flags = fields["flags"].map({ Set($0.split(separator: " ")) }) {
      details.append(flags.contains("avx512f") ? "AVX-512" : flags.contains("avx2") ? "AVX2" : "no AVX2")
    }
    return details.isEmpty ? name : "\(name) (\(details.joined(separator: ", ")))"
  }

  /// This machine's, from /proc/cpuinfo ("unknown CPU" where there is none).
  public static var current: String {
    describe(cpuinfo: (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "")
  }
}
