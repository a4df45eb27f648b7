import FedSimCore
import Foundation

// fed-server RUN_DIR: serves the rounds of the scenario in RUN_DIR/scenario.json.
let arguments = CommandLine.arguments
guard arguments.count == 2 else {
  FileHandle.standardError.write(Data("usage: fed-server RUN_DIR\n".utf8))
  exit(2)
}
do {
  try FederatedServer(folder: RunFolder(arguments[1])).run()
} catch {
  FileHandle.standardError.write(Data("fed-server: \(error)\n".utf8))
  exit(1)
}
