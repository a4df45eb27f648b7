import FedData

/// Why a federation process (or the launcher) cannot go on, with the place named.
public enum FederationError: Error, CustomStringConvertible {
  case dataset(DatasetError)
  case folder(RunFolderError)
  case socket(ZMQError)
  case model(String)
  /// Too few clients joined before the registration deadline.
  case tooFewClients(joined: Int, needed: Int, of: Int)
  /// A peer stayed silent past its patience.
  case silent(peer: String, endpoint: String, seconds: Int)
  case failed(String)

  public var description: String {
    switch self {
    case .dataset(let d): d.description
    case .folder(let e): e.description
    case .socket(let e): e.description
    case .model(let m): m
    case .tooFewClients(let j, let n, let c): "only \(j) of \(c) clients joined before the deadline (the quorum is \(n))"
    case .silent(let p, let e, let s): "the \(p) at \(e) has been silent for \(s) s"
    case .failed(let s): s
    }
  }
}
