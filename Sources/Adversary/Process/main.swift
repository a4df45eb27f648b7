import Tensors
import AdversaryRole
import FedSimCore
import Foundation

// fed-adversary RUN_DIR [TAP_ENDPOINT]: attacks what the server's tap shows, as RUN_DIR/adversary.json
// (the model and the attack, never the dataset) says.
Lifeline.watch(role: "fed-adversary")
let arguments = CommandLine.arguments
guard arguments.count == 2 || arguments.count == 3 else {
  FileHandle.standardError.write(Data("usage: fed-adversary RUN_DIR [tcp://HOST:PORT]\n".utf8))
  exit(2)
}
do {
  try FederatedAdversary(folder: RunFolder(arguments[1])).run(tap: arguments.count == 3 ? arguments[2] : nil)
} catch {
  FileHandle.standardError.write(Data("fed-adversary: \(UntrustedText.printable(message: "\(error)"))\n".utf8))
  exit(1)
}
