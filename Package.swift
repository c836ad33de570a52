// swift-tools-version:6.1
import PackageDescription

// Dependencies point one way: pure cores at the bottom, NIO shells and the CLI on top.
//   runnel → RunnelServer → RunnelBroker → {RunnelWire, RunnelRecords, RunnelLog, RunnelMetadata}
//   RunnelLog → {RunnelStorage, RunnelRecords};  RunnelRaftStorage → {RunnelRaft, RunnelStorage}
//   RunnelRecords → {RunnelChecksum, RunnelCompression};  RunnelStorage → RunnelChecksum
let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "Runnel",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "runnel", targets: ["runnel"]),
        .executable(name: "runnel-sim", targets: ["runnel-sim"]),
        .executable(name: "runnel-allocations", targets: ["runnel-allocations"]),
        // For the libFuzzer package in Fuzz/: every module with an entry point for bytes from the network or the disk.
        .library(
            name: "RunnelForFuzzing",
            targets: ["RunnelWire", "RunnelRecords", "RunnelCompression", "RunnelChecksum", "RunnelStorage", "RunnelLog",
                      "RunnelGroups", "RunnelMetadata", "RunnelRaft", "RunnelRaftStorage", "RunnelBroker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
    ],
    targets: [
        // C shims: hardware CRC-32C and Debian's compression libraries.
        .target(name: "CRunnelCRC32C", cSettings: [.unsafeFlags(["-O3"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSnappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CLZ4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CRdkafka", providers: [.apt(["librdkafka-dev"])]),

        // Pure libraries.
        .target(name: "RunnelChecksum", dependencies: ["CRunnelCRC32C"], swiftSettings: strict),
        .target(name: "RunnelStorage", dependencies: ["RunnelChecksum"], swiftSettings: strict),
        .target(name: "RunnelRaft", swiftSettings: strict),
        .target(name: "RunnelRaftStorage", dependencies: ["RunnelRaft", "RunnelStorage"], swiftSettings: strict),
        .target(name: "RunnelCompression", dependencies: ["CZlib", "CSnappy", "CLZ4", "CZstd"], swiftSettings: strict),
        .target(name: "RunnelWire", dependencies: [.product(name: "NIOCore", package: "swift-nio")], swiftSettings: strict),
        .target(
            name: "RunnelRecords",
            dependencies: ["RunnelChecksum", "RunnelCompression", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict),
        .target(
            name: "RunnelLog",
            dependencies: ["RunnelStorage", "RunnelRecords", "RunnelChecksum", "RunnelCompression", .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .target(name: "RunnelGroups", swiftSettings: strict),
        .target(name: "RunnelMetadata", dependencies: ["RunnelStorage", "RunnelChecksum"], swiftSettings: strict),
        .target(
            name: "RunnelBroker",
            dependencies: [
                "RunnelWire", "RunnelRecords", "RunnelLog", "RunnelMetadata", "RunnelStorage", "RunnelGroups",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict),
        .target(
            name: "RunnelServer",
            dependencies: [
                "RunnelBroker", "RunnelWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict),
        .target(
            name: "RunnelClient",
            dependencies: [
                "RunnelWire", "RunnelRecords",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "runnel",
            dependencies: [
                "RunnelServer", "RunnelClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        // Deterministic simulation (test support) and its sweep command.
        .target(
            name: "RunnelSimulation", dependencies: ["RunnelRaft", "RunnelRaftStorage", "RunnelStorage"],
            swiftSettings: strict),
        .executableTarget(name: "runnel-sim", dependencies: ["RunnelSimulation"], swiftSettings: strict),

        // Allocations per produce request, counted as swift-nio counts them: malloc is replaced in this
        // executable only (CRunnelAllocationHooks must never be linked into anything else).
        .target(name: "CRunnelAllocationHooks"),
        .executableTarget(
            name: "runnel-allocations",
            dependencies: [
                "CRunnelAllocationHooks", "RunnelBroker", "RunnelMetadata", "RunnelRecords", "RunnelCompression", "RunnelStorage",
                "RunnelWire", .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        // Container lab (test support): docker control, librdkafka load, history checker, report.
        .target(name: "RunnelLab", dependencies: ["CRdkafka"], swiftSettings: strict),

        // Tests.
        .testTarget(name: "RunnelMetadataTests", dependencies: ["RunnelMetadata", "RunnelStorage"], swiftSettings: strict),
        .testTarget(name: "RunnelGroupsTests", dependencies: ["RunnelGroups"], swiftSettings: strict),
        .testTarget(name: "RunnelStorageTests", dependencies: ["RunnelStorage", "RunnelChecksum"], swiftSettings: strict),
        .testTarget(name: "RunnelRaftTests", dependencies: ["RunnelRaft"], resources: [.copy("testdata")], swiftSettings: strict),
        .testTarget(
            name: "RunnelSimulationTests", dependencies: ["RunnelSimulation", "RunnelRaft", "RunnelRaftStorage", "RunnelStorage"],
            swiftSettings: strict),
        .testTarget(name: "RunnelWireTests", dependencies: ["RunnelWire"], resources: [.copy("golden")], swiftSettings: strict),
        // Test support shared by test targets (hand-made poison record batches).
        .target(
            name: "RunnelTestSupport",
            dependencies: ["RunnelRecords", "RunnelCompression", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/RunnelTestSupport", swiftSettings: strict),
        .testTarget(name: "RunnelRecordsTests", dependencies: ["RunnelRecords", "RunnelCompression", "RunnelTestSupport"], swiftSettings: strict),
        .testTarget(name: "RunnelLogTests", dependencies: ["RunnelLog", "RunnelStorage", "RunnelRecords", "RunnelTestSupport", .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        .testTarget(
            name: "RunnelBrokerTests",
            dependencies: [
                "RunnelBroker", "RunnelServer", "RunnelWire", "RunnelStorage", "RunnelRecords", "RunnelCompression", "RunnelMetadata", "RunnelGroups",
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RunnelServerTests",
            dependencies: [
                "RunnelServer",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "CompatibilityTests",
            dependencies: ["RunnelRecords", "RunnelCompression", "RunnelWire", "RunnelTestSupport", .product(name: "NIOCore", package: "swift-nio")],
            exclude: ["clients", "requirements.txt"],  // run from the source tree
            swiftSettings: strict),
        .testTarget(name: "HistoryCheckerTests", dependencies: ["RunnelLab"], swiftSettings: strict),
        // Scenarios against the running lab (`make test-lab`); skipped when no lab is up outside CI.
        .testTarget(name: "LabTests", dependencies: ["RunnelLab"], swiftSettings: strict),
    ]
)
