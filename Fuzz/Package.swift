// swift-tools-version:6.1
import PackageDescription

// libFuzzer over Runnel's entry points for bytes from the network or the disk, in a package of its own so
// that the main build never sees the fuzzer's entry point. One binary; RUNNEL_FUZZ_TARGET names the entry
// point (RunnelFuzzer --list prints them). Run through `make fuzz`, which passes -sanitize=fuzzer,
// -parse-as-library and -enable-testing (some entry points are internal to their module).
let package = Package(
    name: "RunnelFuzz",
    dependencies: [
        // The root package, through a link the Makefile makes so that its identity is "Runnel" whatever the
        // clone directory is called.
        .package(path: ".build/Runnel"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "RunnelFuzzer",
            dependencies: [
                .product(name: "RunnelForFuzzing", package: "Runnel"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
    ]
)
