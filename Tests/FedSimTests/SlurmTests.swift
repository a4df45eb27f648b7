import FedSimCore
@testable import FedSimKit
import Foundation
import Testing

/// The Slurm executor's pure parts, on the text a real Slurm 22.05 prints (tools/slurm-test.sh
/// runs the whole executor against a real one-node cluster).
@Suite("Slurm executor")
struct SlurmTests {
  @Test("array lists are the shortest ranges, and read back")
  func arrayLists() {
    #expect(SlurmText.arrayList([0, 1, 2, 5, 7, 8]) == "0-2,5,7-8")
    #expect(SlurmText.arrayList([3]) == "3")
    #expect(SlurmText.arrayList([9, 4, 5]) == "4-5,9")
    #expect(SlurmText.indices("3-7%2") == [3, 4, 5, 6, 7])
    #expect(SlurmText.indices("1,4-5") == [1, 4, 5])
    #expect(SlurmText.indices("[1-3]").isEmpty)  // squeue's brackets are never asked for (-r)
    for list in [[0], [0, 2, 4], Array(0..<40), [1, 2, 3, 10, 11, 999]] {
      #expect(SlurmText.indices(SlurmText.arrayList(list)) == list)
    }
  }

  @Test("sbatch --parsable, squeue -r and scontrol -o are read as Slurm prints them")
  func parsing() {
    #expect(SlurmText.jobID(parsable: "42\n") == "42")
    #expect(SlurmText.jobID(parsable: "42;cluster-a\n") == "42")
    #expect(SlurmText.jobID(parsable: "sbatch: error: Batch job submission failed") == nil)
    let queue = SlurmText.queue("0|RUNNING|None|vm\n1|PENDING|Resources|\n2|COMPLETED|None|vm\n")
    #expect(queue[0] == .init(state: "RUNNING", reason: "None", node: "vm"))
    #expect(queue[1]?.reason == "Resources" && queue[1]?.isTerminal == false)
    #expect(queue[2]?.isTerminal == true && queue[3] == nil)
    let scontrol = """
      JobId=15 ArrayJobId=13 ArrayTaskId=2 JobName=fedsim-x UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) ExitCode=3:0 NodeList=vm StdOut=/runs/x/slurm/13_2.out
      JobId=13 ArrayJobId=13 ArrayTaskId=3-5%2 JobState=PENDING Reason=JobArrayTaskLimit ExitCode=0:0 NodeList=(null) StdOut=/runs/x/slurm/13_%a.out
      """
    let records = SlurmText.records(scontrol)
    #expect(records[2] == .init(state: "FAILED", reason: "NonZeroExitCode", node: "vm", exitCode: "3:0", log: "/runs/x/slurm/13_2.out"))
    #expect(records[4]?.state == "PENDING" && records[5]?.reason == "JobArrayTaskLimit")
  }

  @Test("the array's sbatch arguments and script: the options, the log per task, quoted paths")
  func submission() {
    var o = SlurmOptions()
    (o.partition, o.time, o.cpusPerTask, o.memory, o.maxRunning, o.sbatchArguments) = ("gpu", "1:00:00", 2, "2G", 4, ["--qos=low"])
    let folder = RunFolder("/runs/it's here")
    let a = SlurmArray.sbatchArguments(o, name: "demo", folder: folder, workingDirectory: "/w", base: 0, tasks: [0, 1, 2, 5])
    #expect(a.contains("--array=0-2,5%4") && a.contains("--partition=gpu") && a.contains("--time=1:00:00"))
    #expect(a.contains("--cpus-per-task=2") && a.contains("--mem=2G") && a.contains("--qos=low") && a.contains("--chdir=/w"))
    #expect(a.contains("--output=/runs/it's here/slurm/%A_%a.out") && a.suffix(2) == ["/runs/it's here/slurm/task.sh", "0"])
    let script = SlurmArray.scriptText(fedsim: "/opt/fed sim/fedsim", folder: folder)
    #expect(script.contains("exec '/opt/fed sim/fedsim' run-task '/runs/it'\\''s here' \"$((SLURM_ARRAY_TASK_ID + $1))\""))
    // Below Slurm's largest index an array index is the task's own number; past it, a new array.
    let chunks = SlurmArray.chunks([3, 7, 999, 1000, 1500, 2600])
    #expect(chunks.map(\.base) == [0, 1000, 2000] && chunks[0].tasks == [3, 7, 999] && chunks[1].tasks == [1000, 1500])
  }

  @Test("the scenario's executor and slurm section, checked and overridden by the command line")
  func scenarioKeys() throws {
    let design = try TestScenario.file(
      """
      executor: slurm
      slurm: {partition: debug, time: "30", cpus_per_task: 2, memory: 1G, max_running: 8, sbatch_args: ["--qos=low"]}
      """
    ).design(source: "t")
    #expect(design.executor == .slurm && design.slurm?.partition == "debug" && design.slurm?.cpusPerTask == 2)
    var cli = SlurmOptions()
    (cli.partition, cli.sbatchArguments) = ("long", ["--account=lab"])
    // The command line is the user's own: it may pass what a shared file may not.
    cli.sbatchArguments = ["--account=lab"]
    var trusted = SlurmOptions()
    trusted.sbatchArguments = ["--export=NONE"]
    #expect(throws: Never.self) { try trusted.validated(where: "cli") }
    #expect(throws: ScenarioError.self) { try trusted.validated(where: "file", fromFile: true) }
    let merged = try #require(design.slurm).overridden(by: cli)
    #expect(merged.partition == "long" && merged.time == "30" && merged.sbatchArguments == ["--qos=low", "--account=lab"])
    let refused: [(String, String)] = [
      ("slurm: {time: 'soon'}", "slurm.time"), ("slurm: {memory: lots}", "slurm.memory"),
      ("slurm: {cpus_per_task: 0}", "slurm.cpus_per_task"), ("slurm: {partition: 'a b'}", "slurm.partition"),
      ("slurm: {sbatch_args: ['--array=0-9']}", "slurm.sbatch_args"), ("slurm: {sbatch_args: ['-o/tmp/x']}", "slurm.sbatch_args"),
      ("slurm: {poll: 0}", "slurm.poll"), ("slurm: {nodes: 3}", "slurm.nodes"), ("slurm: {sbatch_args: ['--nodes=4']}", "slurm.sbatch_args"),
      ("slurm: {sbatch_args: ['--export=ALL,LD_PRELOAD=/tmp/x.so']}", "slurm.sbatch_args"), ("slurm: {sbatch_args: ['--qos', 'low']}", "slurm.sbatch_args"),
    ]
    for (yaml, key) in refused {
      #expect(throws: ScenarioError.self, "\(yaml)") { try TestScenario.file(yaml).design(source: "t") }
      do { _ = try TestScenario.file(yaml).design(source: "t") } catch { #expect("\(error)".contains(key), "\(error)") }
    }
    #expect(throws: ScenarioError.self) { try TestScenario.file("executor: kubernetes") }
    #expect(throws: ScenarioError.self) { try TestScenario.file("slurm: {gpus: 3}") }
    let spread = try TestScenario.file("slurm: {nodes: 3, spread_clients: true}").design(source: "t")
    #expect(spread.slurm?.nodes == 3 && spread.slurm?.spreadClients == true)
  }

  @Test("a task pending for a reason that never clears is stuck; one waiting for resources is not")
  func stuck() {
    let q = SlurmText.queue("0|PENDING|PartitionNodeLimit|\n1|PENDING|Resources|\n2|PENDING|Priority|\n3|RUNNING|None|n1\n")
    #expect(q[0]?.isStuck == true && q[1]?.isStuck == false && q[2]?.isStuck == false && q[3]?.isStuck == false)
  }

  @Test("spread clients go round the task's other nodes; one node takes them all")
  func placement() {
    let three = NodePlacement(nodes: ["n1", "n2", "n3"], serverAddress: "10.0.0.1")
    #expect((0..<4).map(three.node(ofClient:)) == ["n2", "n3", "n2", "n3"])
    #expect(NodePlacement(nodes: ["n1"], serverAddress: "10.0.0.1").node(ofClient: 5) == "n1")
    #expect(three.srunArguments(node: "n2").contains("--nodelist=n2"))
    #expect(NodePlacement.address(of: "localhost")?.hasPrefix("127.") == true)
    #expect(NodePlacement.address(of: "no-such-host.invalid") == nil)
  }

  @Test("federation.port fixes both endpoints; out of range is refused")
  func fixedPort() throws {
    let s = try TestScenario.resolve("federation: {host: 10.1.2.3, port: 7700}")
    #expect(s.federation.fixedEndpoints == Endpoints(clients: "tcp://10.1.2.3:7700", tap: "tcp://10.1.2.3:7701"))
    #expect(try TestScenario.resolve("federation: {host: 127.0.0.1}").federation.fixedEndpoints == nil)
    for bad in [80, 65535, -1] {
      do {
        _ = try TestScenario.resolve("federation: {port: \(bad)}")
        Issue.record("port \(bad) was taken")
      } catch { #expect("\(error)".contains("federation.port"), "\(error)") }
    }
  }
}
