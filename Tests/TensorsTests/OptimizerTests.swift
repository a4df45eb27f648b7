import Foundation
import Tensors
import TestSupport
import Testing

/// One trajectory recorded from torch.optim (tools/make_optimizer_reference.py).
struct OptimizerCase: Decodable, Sendable, CustomTestStringConvertible {
  struct Options: Decodable, Sendable {
    var lr: Double
    var max_iter: Int?
    var history_size: Int?
    var line_search_fn: String?
    var momentum: Double?
    var weight_decay: Double?
    var nesterov: Bool?
  }
  var function: String
  var optimizer: String
  var options: Options
  var x0: [Double]
  var steps: [[Double]]
  var evaluations: [Int]
  var final_value: Double

  var testDescription: String {
    "\(optimizer) on \(function)" + (options.line_search_fn.map { " (\($0))" } ?? "")
      + (options.history_size.map { " history \($0)" } ?? "") + " lr \(options.lr)"
  }
}

struct OptimizerReference: Decodable, Sendable {
  struct Quadratic: Decodable, Sendable { var A: [[Double]]; var b: [Double] }
  var quadratic: Quadratic
  var cases: [OptimizerCase]

  static let shared: OptimizerReference = {
    let url = URL(fileURLWithPath: SharedData.repositoryRoot + "/Tests/Fixtures/optimizer-trajectories.json")
    return try! JSONDecoder().decode(OptimizerReference.self, from: Data(contentsOf: url))
  }()

  /// Value and gradient, computed in Double.
  func objective(_ name: String) -> LBFGS.Objective {
    switch name {
    case "quadratic":
      return { x in
        let x = x.map(Double.init)
        let ax = quadratic.A.map { row in zip(row, x).reduce(0) { $0 + $1.0 * $1.1 } }
        let value = 0.5 * zip(x, ax).reduce(0) { $0 + $1.0 * $1.1 } - zip(quadratic.b, x).reduce(0) { $0 + $1.0 * $1.1 }
        return (value, zip(ax, quadratic.b).map { Float($0 - $1) })
      }
    default:  // Rosenbrock
      return { x in
        let (a, b) = (Double(x[0]), Double(x[1]))
        let value = (1 - a) * (1 - a) + 100 * (b - a * a) * (b - a * a)
        return (value, [Float(-2 * (1 - a) - 400 * a * (b - a * a)), Float(200 * (b - a * a))])
      }
    }
  }
}

@Suite("Optimizers against torch.optim trajectories")
struct OptimizerTests {
  @Test(arguments: OptimizerReference.shared.cases)
  func trajectory(_ c: OptimizerCase) {
    let reference = OptimizerReference.shared
    let f = reference.objective(c.function)
    var x = c.x0.map(Float.init)
    let o = c.options
    var lbfgs = LBFGS(
      learningRate: Float(o.lr), maxIterations: o.max_iter ?? 20, historySize: o.history_size ?? 100,
      lineSearch: o.line_search_fn.map { LBFGS.LineSearch(rawValue: $0)! })
    var first: any GradientOptimizer =
      c.optimizer == "adam"
      ? Adam(learningRate: Float(o.lr), weightDecay: Float(o.weight_decay ?? 0))
      : SGD(
        learningRate: Float(o.lr), momentum: Float(o.momentum ?? 0), weightDecay: Float(o.weight_decay ?? 0),
        nesterov: o.nesterov ?? false)
    for (k, expected) in c.steps.enumerated() {
      if c.optimizer == "lbfgs" {
        lbfgs.step(&x, f)
        #expect(lbfgs.evaluations == c.evaluations[k], "step \(k + 1): evaluations")
      } else {
        first.step(&x, gradient: f(x).gradient)
      }
      let err = zip(x, expected).map { abs(Double($0) - $1) }.max()!
      let scale = max(1, expected.map(abs).max()!)
      #expect(err / scale < 2e-4, "step \(k + 1): \(x) vs \(expected)")
    }
  }

  @Test("L-BFGS with strong Wolfe solves Rosenbrock as torch does (54 evaluations there)")
  func rosenbrockConverges() {
    let f = OptimizerReference.shared.objective("rosenbrock")
    var x: [Float] = [-1.5, 2]
    var opt = LBFGS(lineSearch: .strongWolfe)
    for _ in 0..<6 { opt.step(&x, f) }
    #expect(abs(x[0] - 1) < 1e-3 && abs(x[1] - 1) < 1e-3, "\(x)")
    #expect(f(x).value < 1e-6)
    #expect(opt.evaluations < 80)
  }

  @Test("L-BFGS stops at once where the gradient already vanishes")
  func stopsAtOptimum() {
    var x: [Float] = [1, 1]
    var opt = LBFGS(lineSearch: .strongWolfe)
    let value = opt.step(&x) { _ in (0, [0, 0]) }
    #expect(value == 0 && x == [1, 1] && opt.evaluations == 1)
  }
}
