// swift-tools-version:6.1
import PackageDescription

// libFuzzer over the request decoder, in a package of its own so that the main build never sees the
// fuzzer's entry point. Run through `make fuzz` (which passes -sanitize=fuzzer and -parse-as-library).
let package = Package(
    name: "RunnelFuzz",
    dependencies: [
        // The root package, through a link the Makefile makes so that its identity is "Runnel" whatever the
        // clone directory is called.
        .package(path: ".build/Runnel"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "RequestDecoderFuzzer",
            dependencies: [.product(name: "RunnelWireForFuzzing", package: "Runnel"), .product(name: "NIOCore", package: "swift-nio")]),
    ]
)
