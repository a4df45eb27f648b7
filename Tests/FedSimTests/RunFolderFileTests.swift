import FedSimCore
import Foundation
import TestSupport
import Testing

@Suite("A run folder's damaged JSON files")
struct RunFolderFileTests {
  @Test(
    "a damaged file is an error naming it, where in it, and what was wrong: not Foundation's DecodingError text",
    arguments: [
      ("{\"clients\": \"tcp://a\"", "not a valid Endpoints: not valid JSON"),
      ("[1, 2]", "not a valid Endpoints: the top level: expected an object, found an array"),
      ("{\"clients\": \"tcp://a\"}", "not a valid Endpoints: 'tap' is missing"),
      ("{\"clients\": 5, \"tap\": \"tcp://b\"}", "not a valid Endpoints: 'clients': expected a string, found a number"),
      ("{\"clients\": null, \"tap\": \"tcp://b\"}", "not a valid Endpoints: 'clients': expected a string, found null"),
    ])
  func damaged(_ c: (String, String)) throws {
    let folder = RunFolder(TemporaryPath.make("fedsim-damaged"))
    try folder.create()
    try Data(c.0.utf8).write(to: URL(fileURLWithPath: folder.endpoints))
    do {
      _ = try folder.readEndpoints()
      Issue.record("\(c.0) was read")
    } catch {
      #expect(error.description == "\(folder.endpoints): \(c.1)", "\(error)")
    }
  }
}
