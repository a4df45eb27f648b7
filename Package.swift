// swift-tools-version:6.0
import PackageDescription

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
  ],
  targets: [
    .systemLibrary(
      name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(
      name: "CZeroMQ", path: "Sources/CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
    .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
    .target(name: "Tensors", dependencies: ["COpenBLAS"], path: "Sources/Tensors"),
    .target(name: "Adversary", dependencies: ["Tensors"], path: "Sources/Adversary", exclude: ["Process"]),
    .target(
      name: "FedSimCore", dependencies: ["Tensors", "Adversary", "CZeroMQ", "CZlib", "Yams"],
      path: "Sources/FedSim/Core"),
    .executableTarget(
      name: "fedsim",
      dependencies: [
        "FedSimCore", "Adversary", "Tensors", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Sources/FedSim/CLI"),
    .executableTarget(name: "fed-server", dependencies: ["FedSimCore"], path: "Sources/FedServer"),
    .executableTarget(name: "fed-client", dependencies: ["FedSimCore"], path: "Sources/FedClient"),
    .executableTarget(name: "fed-adversary", dependencies: ["FedSimCore"], path: "Sources/Adversary/Process"),
    .target(name: "TestSupport", dependencies: ["Tensors"], path: "Tests/TestSupport"),
    .testTarget(
      name: "TensorsTests", dependencies: ["Tensors", "TestSupport"], path: "Tests/TensorsTests"),
    .testTarget(
      name: "AdversaryTests", dependencies: ["Adversary", "Tensors", "TestSupport"],
      path: "Tests/AdversaryTests"),
    .testTarget(
      name: "FedSimTests", dependencies: ["FedSimCore", "Adversary", "Tensors", "TestSupport"],
      path: "Tests/FedSimTests"),
  ]
)
