import CZeroMQ
import Foundation

/// A CURVE key pair in Z85 text (40 characters each).
public struct CurveKeyPair: Codable, Sendable, Equatable {
  public var publicKey: String
  public var secretKey: String

  enum CodingKeys: String, CodingKey {
    case publicKey = "public", secretKey = "secret"
  }

  /// A fresh key pair from libsodium (through libzmq).
  public static func generate() throws(ZMQError) -> CurveKeyPair {
    var pub = [CChar](repeating: 0, count: 41)
    var sec = [CChar](repeating: 0, count: 41)
    guard zmq_curve_keypair(&pub, &sec) == 0 else { throw ZMQError.last("zmq_curve_keypair") }
    func text(_ z85: [CChar]) -> String { String(decoding: z85.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    return CurveKeyPair(publicKey: text(pub), secretKey: text(sec))
  }
}

/// Every public key of a point's federation, as the server needs them: its own, each client's
/// (by index) and the adversary's. `keys/public.json` in the run folder.
public struct CurvePublicKeys: Codable, Sendable, Equatable {
  public var server: String
  public var clients: [String]
  public var adversary: String
}

/// The key files of a point: `keys/` (mode 0700) holds `public.json` and one `<role>.key` per
/// process (mode 0600, its key pair). Other local users can read none of them.
public enum CurveKeyring {
  public static func folder(_ run: RunFolder) -> String { run.path + "/keys" }
  public static func file(_ run: RunFolder, role: String) -> String { folder(run) + "/\(role).key" }
  public static func publicFile(_ run: RunFolder) -> String { folder(run) + "/public.json" }

  /// Makes the key pairs of the server, `clients` clients and the adversary.
  public static func make(in run: RunFolder, clients: Int) throws(FederationError) {
    let pairs: (server: CurveKeyPair, clients: [CurveKeyPair], adversary: CurveKeyPair)
    do { pairs = (try .generate(), try (0..<clients).map { _ throws(ZMQError) in try .generate() }, try .generate()) } catch {
      throw .socket(error)
    }
    let dir = folder(run)
    guard mkdir(dir, 0o700) == 0 || (errno == EEXIST && chmod(dir, 0o700) == 0) else {
      throw .folder(.write(path: dir, reason: String(cString: strerror(errno))))
    }
    try write(pairs.server, to: file(run, role: "server"))
    for (c, pair) in pairs.clients.enumerated() { try write(pair, to: file(run, role: "client-\(c)")) }
    try write(pairs.adversary, to: file(run, role: "adversary"))
    let keys = CurvePublicKeys(server: pairs.server.publicKey, clients: pairs.clients.map(\.publicKey), adversary: pairs.adversary.publicKey)
    do { try run.writeJSON(keys, to: publicFile(run)) } catch { throw .folder(error) }
  }

  /// The key pair of `role` ("server", "client-3", "adversary").
  public static func pair(_ run: RunFolder, role: String) throws(FederationError) -> CurveKeyPair {
    let path = file(run, role: role)
    do { return try run.readJSON(CurveKeyPair.self, from: path) } catch {
      throw .failed("\(role) has no usable CURVE key (\(error)); the launcher makes keys/ for a run with security: curve")
    }
  }

  public static func publicKeys(_ run: RunFolder) throws(FederationError) -> CurvePublicKeys {
    do { return try run.readJSON(CurvePublicKeys.self, from: publicFile(run)) } catch { throw .folder(error) }
  }

  /// Makes `socket` a CURVE client of this run's server, as `role`.
  public static func secure(_ socket: ZMQSocket, as role: String, in run: RunFolder) throws(FederationError) {
    let own = try pair(run, role: role)
    let server = try publicKeys(run).server
    do { try socket.useCurve(serverKey: server, own: own) } catch { throw .socket(error) }
  }

  /// Writes a key file readable by its owner only, never by a moment's wider mode.
  private static func write(_ pair: CurveKeyPair, to path: String) throws(FederationError) {
    let data: Data
    do { data = try JSONEncoder().encode(pair) } catch { throw .failed("cannot encode a key: \(error)") }
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw .folder(.write(path: path, reason: String(cString: strerror(errno)))) }
    defer { close(fd) }
    let written = data.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, data.count) }
    guard written == data.count else { throw .folder(.write(path: path, reason: String(cString: strerror(errno)))) }
  }
}
