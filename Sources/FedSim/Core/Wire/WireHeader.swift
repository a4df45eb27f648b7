/// Frame 0 of a message: the envelope (version, type, sequence, the tensors' names, dtypes and
/// shapes, the payload's CRC-32) and the kind's own typed header under the key named by `type`.
struct WireHeader: Codable {
  var version: Int
  var sequence: Int
  var tensors: [WireMessage.TensorInfo]
  var crc32: UInt32
  var body: WireBody

  enum CodingKeys: String, CodingKey {
    case version = "v", type, sequence = "seq", tensors, crc32
    case hello, model, update, tap, done, heartbeat
  }

  init(version: Int, sequence: Int, tensors: [WireMessage.TensorInfo], crc32: UInt32, body: WireBody) {
    (self.version, self.sequence, self.tensors, self.crc32, self.body) = (version, sequence, tensors, crc32, body)
  }

  init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    version = try c.decode(Int.self, forKey: .version)
    // A header of another version may have another shape: say so before anything else.
    guard version == WireMessage.version else { throw WireError.malformed("protocol version \(version), expected \(WireMessage.version)") }
    sequence = try c.decode(Int.self, forKey: .sequence)
    tensors = try c.decode([WireMessage.TensorInfo].self, forKey: .tensors)
    crc32 = try c.decode(UInt32.self, forKey: .crc32)
    switch try c.decode(WireMessage.Kind.self, forKey: .type) {
    case .hello: body = .hello(try c.decode(Hello.self, forKey: .hello))
    case .model: body = .model(try c.decode(ModelHeader.self, forKey: .model))
    case .update: body = .update(try c.decode(UpdateHeader.self, forKey: .update))
    case .tap: body = .tap(try c.decode(TapHeader.self, forKey: .tap))
    case .done: body = .done(try c.decode(Done.self, forKey: .done))
    case .heartbeat: body = .heartbeat(try c.decode(Heartbeat.self, forKey: .heartbeat))
    }
  }

  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(version, forKey: .version)
    try c.encode(sequence, forKey: .sequence)
    try c.encode(tensors, forKey: .tensors)
    try c.encode(crc32, forKey: .crc32)
    try c.encode(body.kind, forKey: .type)
    switch body {
    case .hello(let h): try c.encode(h, forKey: .hello)
    case .model(let h): try c.encode(h, forKey: .model)
    case .update(let h): try c.encode(h, forKey: .update)
    case .tap(let h): try c.encode(h, forKey: .tap)
    case .done(let h): try c.encode(h, forKey: .done)
    case .heartbeat(let h): try c.encode(h, forKey: .heartbeat)
    }
  }
}
