import Tensors
import FedServer
import FedSimCore
import Foundation

// fed-server RUN_DIR: serves the rounds of the resolved scenario in RUN_DIR/scenario.json.
Lifeline.watch(role: "fed-server")
let arguments = CommandLine.arguments
guard arguments.count == 2 else {
  FileHandle.standardError.write(Data("usage: fed-server RUN_DIR\n".utf8))
  exit(2)
}
do {
  // The endpoints, as one JSON line on standard output, tell the launcher the server listens.
  try FederatedServer(folder: RunFolder(arguments[1])).run { endpoints in
    if let json = try? JSONEncoder().encode(endpoints) {
      try? FileHandle.standardOutput.write(contentsOf: json + Data("\n".utf8))
    }
  }
} catch {
  FileHandle.standardError.write(Data("fed-server: \(UntrustedText.printable(message: "\(error)"))\n".utf8))
  exit(1)
}
