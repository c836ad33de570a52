import Foundation
import RunnelLab
import XCTest

/// The lab's librdkafka wrapper and probes against one local `runnel serve` (no docker): what the lab
/// scenarios build on, checked in the plain test run.
final class LocalBrokerClientTests: XCTestCase {
    private var broker: Process?
    private var dataDir = ""
    private var port: UInt16 = 0

    private static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    private static var binary: String {
        if let explicit = ProcessInfo.processInfo.environment["RUNNEL_BINARY"] { return explicit }
        let bundle = Bundle(for: LocalBrokerClientTests.self).bundleURL
        return [bundle, bundle.deletingLastPathComponent(), packageRoot.appendingPathComponent(".build/debug")]
            .map { $0.appendingPathComponent("runnel").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "runnel"
    }

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            let message = "the runnel binary is missing (\(Self.binary)); run `swift build --product runnel`"
            if ProcessInfo.processInfo.environment["CI"] == "true" { throw LabError(message) }
            throw XCTSkip(message)
        }
        port = try Self.freePort()
        dataDir = NSTemporaryDirectory() + "runnel-lab-local-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = [
            "serve", "--node-id", "1", "--data-dir", dataDir, "--kafka-listener", "127.0.0.1:\(port)",
            "--advertised-kafka-listener", "127.0.0.1:\(port)", "--log-level", "warning",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        broker = process
        let deadline = Date().addingTimeInterval(30)
        while !NetworkProbe.answersApiVersions(host: "127.0.0.1", port: port, timeoutMs: 500) {
            guard Date() < deadline, process.isRunning else { throw LabError("the local broker did not start") }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    override func tearDown() {
        if let broker, broker.isRunning {
            kill(broker.processIdentifier, SIGKILL)
            broker.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: dataDir)
    }

    func testEveryAcknowledgedSendIsReadBackAndTheHistoryChecksClean() throws {
        let recorder = HistoryRecorder()
        let partition = TopicPartition("lab-local", 0)
        var settings = ProducerSettings(bootstrap: "127.0.0.1:\(port)")
        settings.idempotence = true
        let producer = try LabProducer(clientID: ClientID("p1"), settings: settings, recorder: recorder)
        for i in 0..<200 {
            producer.send("v\(i)", to: partition)
            producer.serve(timeoutMs: 0)
        }
        XCTAssertTrue(producer.drain(timeoutMs: 20_000), "delivery reports: \(producer.log.lines.suffix(5))")
        producer.close()

        let consumer = try LabConsumer(
            clientID: ClientID("c1"), settings: ConsumerSettings(bootstrap: "127.0.0.1:\(port)"), recorder: recorder)
        try consumer.assignFromBeginning([partition])
        let read = consumer.readToEnd(partition, timeoutMs: 20_000)
        consumer.close()

        let history = recorder.snapshot
        let check = HistoryChecker.check(history)
        XCTAssertEqual(check.anomalies, [])
        XCTAssertEqual(check.sendCount, 200)
        XCTAssertEqual(check.acknowledgedCount, 200)
        XCTAssertEqual(check.acknowledgedReadCount, 200)
        XCTAssertEqual(read.highWatermark, 200)
        XCTAssertTrue(read.complete)
        XCTAssertEqual(history.sends.compactMap(\.acknowledgedOffset).sorted(), (0..<200).map(Int64.init))
        let times = history.operations.map(\.latestNs)
        XCTAssertEqual(times, times.sorted(), "operations are recorded in completion order")
    }

    func testSendsToAStoppedBrokerFailWithinTheMessageTimeout() throws {
        let recorder = HistoryRecorder()
        var settings = ProducerSettings(bootstrap: "127.0.0.1:\(port)")
        settings.messageTimeoutMs = 1_000
        let producer = try LabProducer(clientID: ClientID("p1"), settings: settings, recorder: recorder)
        if let broker { kill(broker.processIdentifier, SIGKILL); broker.waitUntilExit() }
        for i in 0..<5 { producer.send("v\(i)", to: TopicPartition("lab-down", 0)) }
        XCTAssertTrue(producer.drain(timeoutMs: 10_000))
        producer.close()
        let sends = recorder.snapshot.sends
        XCTAssertEqual(sends.count, 5)
        XCTAssertEqual(sends.filter { $0.acknowledgedOffset != nil }.count, 0)
    }

    func testProbesTellAnsweringFromRefusing() throws {
        XCTAssertEqual(NetworkProbe.connect(host: "127.0.0.1", port: port, timeoutMs: 1_000), .connected)
        XCTAssertTrue(NetworkProbe.answersApiVersions(host: "127.0.0.1", port: port, timeoutMs: 1_000))
        let closed = try Self.freePort()
        XCTAssertEqual(NetworkProbe.connect(host: "127.0.0.1", port: closed, timeoutMs: 1_000), .refused)
        XCTAssertFalse(NetworkProbe.answersApiVersions(host: "127.0.0.1", port: closed, timeoutMs: 1_000))
    }

    func testAProbeOfASilentListenerTimesOut() throws {
        // A listening socket nobody accepts from: the kernel completes the handshake, nothing answers,
        // like a paused container.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        XCTAssertTrue(bound)
        XCTAssertEqual(listen(fd, 4), 0)
        let silent = UInt16(bigEndian: address.sin_port)
        let started = Date()
        XCTAssertFalse(NetworkProbe.answersApiVersions(host: "127.0.0.1", port: silent, timeoutMs: 300))
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
    }

    private static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw LabError("no free port") }
        return UInt16(bigEndian: address.sin_port)
    }
}
