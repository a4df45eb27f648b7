// swift-tools-version:6.0
import PackageDescription

// The targets and their arrows are drawn in docs/architecture.md; tools/check-graph.py checks
// them against `swift package describe --type json`.
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

// The numeric targets' Swift code (the passes between the matrix products: transforms, batch
// norm, activations, pooling) is compiled for x86-64-v3 (AVX2 and FMA, Haswell and later):
// built for baseline x86-64 it ran four lanes wide in SSE, and Inception-v3 and ResNet-18 took
// 7–12% longer. The C kernels choose their instructions at run time either way. A process
// started on a CPU without AVX2 stops at once and says so (Sources/CGatherProduct/cpu_check.c);
// `FEDSIM_PORTABLE=1 swift build` (after `rm -rf .build`) builds for baseline x86-64 instead.
#if arch(x86_64)
  import Foundation
  let portable = ProcessInfo.processInfo.environment["FEDSIM_PORTABLE"] == "1"
  let numericSwift: [SwiftSetting] = portable ? [] : [.unsafeFlags(["-target-cpu", "haswell"])]
  let numericC: [CSetting] = portable ? [] : [.define("FEDSIM_NEEDS_AVX2")]
#else
  let numericSwift: [SwiftSetting] = []
  let numericC: [CSetting] = []
#endif

let package = Package(
  name: "FedSim",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "Tensors", targets: ["Tensors"]),
    .library(name: "Adversary", targets: ["Adversary"]),
    .executable(name: "fedsim", targets: ["fedsim"]),
    .executable(name: "fed-server", targets: ["fed-server"]),
    .executable(name: "fed-client", targets: ["fed-client"]),
    .executable(name: "fed-adversary", targets: ["fed-adversary"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    // The live view's HTTP and WebSocket server, and the templates of its page.
    .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
  ],
  targets: [
    .systemLibrary(
      name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(
      name: "CZeroMQ", path: "Sources/CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
    .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(
      name: "CTurboJPEG", path: "Sources/CTurboJPEG", pkgConfig: "libturbojpeg",
      providers: [.apt(["libturbojpeg0-dev"])]),

    // The C kernels (direct convolution, Winograd's panel products, the AVX-512 matrix product;
    // each dispatched at run time) and the start-up CPU check.
    .target(name: "CGatherProduct", path: "Sources/CGatherProduct", cSettings: numericC),

    // The numeric core and the attacks: no federation in them.
    .target(
      name: "Tensors", dependencies: ["COpenBLAS", "CGatherProduct"], path: "Sources/Tensors",
      swiftSettings: numericSwift),
    .target(
      name: "Adversary", dependencies: ["Tensors", "COpenBLAS"], path: "Sources/Adversary",
      exclude: ["Role", "Process"], swiftSettings: numericSwift),

    // Datasets, transforms, partitions, image files and the training loop over them.
    .target(
      name: "FedData", dependencies: ["Tensors", "CZlib", "CTurboJPEG"], path: "Sources/FedSim/Data",
      swiftSettings: numericSwift),
    // What every process speaks: the resolved scenario, wire messages, ZeroMQ, the run folder,
    // the event log and round records, the update-file format. No YAML, no reports.
    .target(
      name: "FedSimCore", dependencies: ["Tensors", "FedData", "CZeroMQ", "CZlib"],
      path: "Sources/FedSim/Core"),

    // The three roles, each a library with a thin main beside it.
    .target(
      name: "FedServer", dependencies: ["FedSimCore", "FedData", "Tensors"], path: "Sources/FedServer",
      exclude: ["Process"]),
    .target(
      name: "FedClient", dependencies: ["FedSimCore", "FedData", "Tensors"], path: "Sources/FedClient",
      exclude: ["Process"]),
    .target(
      name: "AdversaryRole", dependencies: ["Adversary", "FedSimCore", "Tensors"],
      path: "Sources/Adversary/Role"),
    .executableTarget(name: "fed-server", dependencies: ["FedServer", "FedSimCore"], path: "Sources/FedServer/Process"),
    .executableTarget(name: "fed-client", dependencies: ["FedClient", "FedSimCore"], path: "Sources/FedClient/Process"),
    .executableTarget(
      name: "fed-adversary", dependencies: ["AdversaryRole", "FedSimCore"], path: "Sources/Adversary/Process"),

    // The launcher, scenario files (YAML), scoring, summaries, reports, the live view, benchmarks.
    .target(
      name: "FedSimKit",
      dependencies: [
        "FedSimCore", "FedData", "Adversary", "Tensors", "COpenBLAS", "CZeroMQ", "Yams",
        .product(name: "FlyingFox", package: "FlyingFox"), .product(name: "Mustache", package: "swift-mustache"),
      ],
      path: "Sources/FedSim/Kit"),
    .executableTarget(
      name: "fedsim", dependencies: ["FedSimKit", "FedSimCore", "FedData", "Adversary", "Tensors", argumentParser],
      path: "Sources/FedSim/CLI"),

    .target(name: "TestSupport", dependencies: ["Tensors"], path: "Tests/TestSupport"),
    .testTarget(
      name: "TensorsTests", dependencies: ["Tensors", "TestSupport"], path: "Tests/TensorsTests"),
    .testTarget(
      name: "AdversaryTests", dependencies: ["Adversary", "Tensors", "TestSupport"],
      path: "Tests/AdversaryTests"),
    .testTarget(
      name: "FedSimTests",
      dependencies: [
        "FedSimKit", "FedSimCore", "FedData", "FedServer", "FedClient", "AdversaryRole", "Adversary", "Tensors",
        "TestSupport",
      ],
      path: "Tests/FedSimTests"),
  ]
)
