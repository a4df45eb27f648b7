import Tensors
import FedClient
import FedSimCore
import Foundation

// fed-client RUN_DIR ID [SERVER_ENDPOINT]: one client of the scenario in RUN_DIR/scenario.json.
Lifeline.watch(role: "fed-client")
let arguments = CommandLine.arguments
guard arguments.count == 3 || arguments.count == 4, let id = Int(arguments[2]) else {
  FileHandle.standardError.write(Data("usage: fed-client RUN_DIR ID [tcp://HOST:PORT]\n".utf8))
  exit(2)
}
do {
  try FederatedClient(folder: RunFolder(arguments[1]), id: id).run(server: arguments.count == 4 ? arguments[3] : nil)
} catch {
  FileHandle.standardError.write(Data("fed-client \(id): \(UntrustedText.printable(message: "\(error)"))\n".utf8))
  exit(1)
}
