import Foundation
import XCTest

/// A `runnel serve` child process on a free loopback port with its own temporary data directory.
final class BrokerProcess {
    let port: Int
    let dataDir: String
    private(set) var process: Process?
    let logPath: String

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The `runnel` binary the test build produced next to the test bundle.
    static var binary: String {
        if let explicit = ProcessInfo.processInfo.environment["RUNNEL_BINARY"] { return explicit }
        // Next to the test bundle (on Linux Bundle(for:) is already the build directory).
        let bundle = Bundle(for: BrokerProcess.self).bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent(), packageRoot.appendingPathComponent(".build/debug")]
        return candidates.map { $0.appendingPathComponent("runnel").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0].appendingPathComponent("runnel").path
    }

    /// `advertisedPort`: the port Metadata names instead of the listener's (a proxy in front of it).
    init(extraArguments: [String] = [], advertisedPort: Int? = nil) throws {
        port = try Self.freePort()
        self.advertisedPort = advertisedPort
        dataDir = NSTemporaryDirectory() + "runnel-compat-\(UUID().uuidString)"
        logPath = dataDir + ".log"
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        self.extraArguments = extraArguments
        try start()
    }

    private let extraArguments: [String]
    private let advertisedPort: Int?

    var bootstrap: String { "127.0.0.1:\(port)" }

    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = [
            "serve", "--node-id", "1", "--data-dir", dataDir,
            "--kafka-listener", "127.0.0.1:\(port)", "--advertised-kafka-listener", "127.0.0.1:\(advertisedPort ?? port)",
            "--log-level", "info", "--metrics-listener", "none",  // many test brokers at once: no shared metrics port
        ] + extraArguments
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        try waitUntilHealthy()
    }

    func waitUntilHealthy(timeoutSeconds: Double = 30) throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if let process, !process.isRunning {
                throw Failure("the broker exited with \(process.terminationStatus); log:\n\(log)")
            }
            if (try? runCommand(Self.binary, ["health", "--bootstrap", bootstrap]).status) == 0 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw Failure("the broker did not become healthy; log:\n\(log)")
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func kill(signal: Int32 = SIGKILL) {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    func stop() {
        kill(signal: SIGTERM)
        try? FileManager.default.removeItem(atPath: dataDir)
    }

    /// The directory of a partition's log: `<topic>-<partition>` as in Kafka (the topic id is in its
    /// `partition.metadata`), or, from brokers before that layout, `<topic>-<partition>-<topic id hex>`.
    func partitionDirectory(topic: String, partition: Int32) -> String? {
        let name = "\(topic)-\(partition)"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dataDir)) ?? []
        if names.contains(name) { return dataDir + "/" + name }
        return names.first { $0.hasPrefix(name + "-") && $0.utf8.count == name.utf8.count + 33 }.map { dataDir + "/" + $0 }
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Failure("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct Output {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs a command to completion (bounded by `timeoutSeconds`), feeding `input` to its stdin.
@discardableResult
func runCommand(_ executable: String, _ arguments: [String], input: Data? = nil, timeoutSeconds: Double = 120,
         environment: [String: String]? = nil) throws -> Output {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe(), stdin = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(input) }
    try? stdin.fileHandleForWriting.close()
    // Drain both pipes concurrently so a chatty child never blocks on a full pipe.
    let collected = Collected()
    let group = DispatchGroup()
    for (pipe, isOut) in [(out, true), (err, false)] {
        group.enter()
        DispatchQueue.global().async {
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            collected.set(data, isOut: isOut)
            group.leave()
        }
    }
    let deadline = Date().addingTimeInterval(timeoutSeconds)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    if process.isRunning {
        process.terminate()
        process.waitUntilExit()
        group.wait()
        throw Failure("\(executable) \(arguments.joined(separator: " ")) timed out after \(timeoutSeconds) s; stderr: \(collected.stderr)")
    }
    process.waitUntilExit()
    group.wait()
    return Output(status: process.terminationStatus, stdout: collected.stdout, stderr: collected.stderr)
}

final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data()
    func set(_ data: Data, isOut: Bool) {
        lock.lock()
        if isOut { out = data } else { err = data }
        lock.unlock()
    }
    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }
}

/// Tools the suite needs. Outside CI a missing tool skips; with CI=true it fails.
enum Tools {
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    static var python: String {
        let venv = ProcessInfo.processInfo.environment["RUNNEL_VENV"] ?? BrokerProcess.packageRoot.appendingPathComponent(".venv").path
        return venv + "/bin/python"
    }

    static func require(_ path: String, _ what: String) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            let message = "\(what) is not installed (\(path)); run `make deps`"
            if isCI { throw Failure(message) }
            throw XCTSkip(message)
        }
    }

    static func requireBroker() throws {
        guard FileManager.default.isExecutableFile(atPath: BrokerProcess.binary) else {
            throw Failure("the runnel binary is missing at \(BrokerProcess.binary); run `swift build` first")
        }
    }

    static let kcat = "/usr/bin/kcat"
}
