extension WireBody {
  /// Checks every number the sender declared against `WireLimits`; nothing is defaulted.
  func validate() throws(WireError) {
    try check(run.count <= WireLimits.runName, "the run name is longer than \(WireLimits.runName) characters")
    switch self {
    case .hello(let h):
      try client(h.client)
    case .model(let h):
      try round(h.round)
      try client(h.client)
      try check(h.selected.count <= WireLimits.client + 1, "\(h.selected.count) selected clients")
      for c in h.selected { try client(c) }
    case .update(let h):
      try round(h.round)
      try client(h.client)
      try counts(examples: h.examples, batch: h.batch, steps: h.steps)
    case .tap(let h):
      try round(h.round)
      if h.client != -1 { try client(h.client) }
      try check(h.clients.count <= WireLimits.client + 1, "\(h.clients.count) clients")
      for c in h.clients { try client(c) }
      try check(h.learningRate.isFinite && h.learningRate > 0, "learning rate \(h.learningRate)")
      try counts(examples: h.examples, batch: h.batch, steps: h.steps)
    case .done:
      break
    case .heartbeat(let h):
      try check(h.round >= 0 && h.round <= WireLimits.round, "round \(h.round)")
    }
  }

  private func check(_ ok: Bool, _ what: String) throws(WireError) {
    if !ok { throw .malformed("\(kind.rawValue) header: \(what) is out of bounds") }
  }

  private func round(_ r: Int) throws(WireError) { try check(r >= 1 && r <= WireLimits.round, "round \(r)") }
  private func client(_ c: Int) throws(WireError) { try check(c >= 0 && c <= WireLimits.client, "client \(c)") }

  private func counts(examples: Int, batch: Int, steps: Int) throws(WireError) {
    try check(examples >= 1 && examples <= WireLimits.examples, "examples \(examples)")
    try check(batch >= 1 && batch <= WireLimits.batch, "batch \(batch)")
    try check(steps >= 1 && steps <= WireLimits.steps, "steps \(steps)")
  }
}
