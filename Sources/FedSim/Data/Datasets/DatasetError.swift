/// Why a dataset could not be read; every case names the file.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
  case unreadable(path: String, reason: String)
  case malformed(path: String, reason: String)
  case unrecognized(path: String, reason: String)

  public var description: String {
    switch self {
    case .unreadable(let p, let r): "\(p): cannot read: \(r)"
    case .malformed(let p, let r): "\(p): \(r)"
    case .unrecognized(let p, let r): "\(p): not a dataset FedSim reads: \(r)"
    }
  }
}
