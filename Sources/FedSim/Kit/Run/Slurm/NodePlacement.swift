import FedSimCore
import Foundation

/// Where a Slurm task puts its processes when `slurm.spread_clients` is on: the server and the
/// adversary on the task's first node (the one running the batch script), the clients on the
/// allocation's other nodes in turn (all on the first when it has one node), each started as a
/// job step (`srun --nodelist`). The server binds this node's address, so the clients reach it
/// over the cluster's network, with CURVE.
public struct NodePlacement: Sendable, Equatable {
  /// The allocation's nodes, the batch node first.
  public var nodes: [String]
  /// The address the server binds: the batch node's.
  public var serverAddress: String

  /// The node of client `c`.
  public func node(ofClient c: Int) -> String {
    nodes.count == 1 ? nodes[0] : nodes[1 + c % (nodes.count - 1)]
  }

  /// The `srun` arguments that start one process on `node`, within the task's allocation.
  public func srunArguments(node: String) -> [String] {
    ["--nodes=1", "--ntasks=1", "--nodelist=\(node)", "--overlap", "--kill-on-bad-exit=1", "--quiet"]
  }

  /// The placement of the Slurm task this process runs in, from its environment.
  public static func current() throws(FederationError) -> NodePlacement {
    let env = ProcessInfo.processInfo.environment
    guard let list = env["SLURM_JOB_NODELIST"], let here = env["SLURMD_NODENAME"] else {
      throw .failed("slurm.spread_clients needs a Slurm task (SLURM_JOB_NODELIST and SLURMD_NODENAME are not set)")
    }
    let out = try SlurmCommand.run("scontrol", ["show", "hostnames", list])
    guard out.succeeded else { throw .failed("scontrol show hostnames \(list): \(out.complaint)") }
    let all = out.out.split(whereSeparator: \.isNewline).map(String.init)
    let nodes = [here] + all.filter { $0 != here }
    guard let address = address(of: here) else { throw .failed("cannot resolve this node's name \(here) to an IPv4 address") }
    return NodePlacement(nodes: nodes, serverAddress: address)
  }

  /// The first IPv4 address of `host`.
  static func address(of host: String) -> String? {
    var hints = addrinfo()
    hints.ai_family = AF_INET
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return nil }
    defer { freeaddrinfo(list) }
    var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
    guard getnameinfo(first.pointee.ai_addr, first.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else {
      return nil
    }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
