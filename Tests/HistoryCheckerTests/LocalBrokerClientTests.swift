import Foundation
import RunnelLab
import XCTest

/// The lab's librdkafka wrapper and probes against one local `runnel serve` (no docker): what the lab
/// scenarios build on, checked in the plain test run.
final class LocalBrokerClientTests: XCTestCase {
    private var broker: LocalBroker?
    private var port: UInt16 = 0

    override func setUpWithError() throws {
        let binary = LocalBroker.binary
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            let message = "the runnel binary is missing (\(binary)); run `swift build --product runnel`"
            if ProcessInfo.processInfo.environment["CI"] == "true" { throw LabError(message) }
            throw XCTSkip(message)
        }
        port = try LocalBroker.freePort()
        let broker = try LocalBroker(binary: binary, port: port)
        self.broker = broker
        try broker.start()
    }

    override func tearDown() {
        broker?.stop()
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
        try broker?.kill()
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
        let closed = try LocalBroker.freePort()
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
}

extension LocalBrokerClientTests {
    /// The lab's kill scenario with a local process instead of a container: SIGKILL the broker during an
    /// acks=all stream, restart it on the same data: every acknowledged record is read back in order.
    func testKilledAndRestartedBrokerKeepsEveryAcknowledgedRecord() throws {
        let host = try XCTUnwrap(broker)
        var stream = FaultStream(name: "local-kill", bootstrap: "127.0.0.1:\(port)", target: "local broker") {
            $0.messageTimeoutMs = 30_000
        }
        stream.beforeFaultMs = 1_000
        stream.holdMs = 1_000
        stream.afterHealMs = 2_000
        let result = try stream.run(FaultSteps(kind: .kill, inject: { try host.kill() }, heal: { try host.restart() }))
        print(ReportRenderer.text(LabReport(createdAt: "-", librdkafkaVersion: Librdkafka.version, scenarios: [result.summary])))
        XCTAssertEqual(result.problems, [], "log: \(result.clientLogTail)")
        XCTAssertEqual(result.summary.status, .passed)
        XCTAssertEqual(result.summary.lost, 0)
        XCTAssertEqual(result.summary.faults.count, 1)
        XCTAssertNotNil(result.summary.recoveryMs)
        XCTAssertGreaterThan(result.summary.acknowledged, 100)
    }

    /// The lab's pause scenario with SIGSTOP: frozen past the client's timeouts, then resumed; the
    /// producer recovers and nothing acknowledged is lost.
    func testBrokerFrozenPastTheClientTimeoutLosesNothingAcknowledged() throws {
        let host = try XCTUnwrap(broker)
        var stream = FaultStream(name: "local-pause", bootstrap: "127.0.0.1:\(port)", target: "local broker") {
            $0.messageTimeoutMs = 2_000
            $0.requestTimeoutMs = 1_500
            $0.socketTimeoutMs = 1_500
        }
        stream.beforeFaultMs = 1_000
        stream.holdMs = 3_000
        stream.afterHealMs = 3_000
        let result = try stream.run(FaultSteps(kind: .pause, inject: { try host.pause() }, heal: { try host.resume() }))
        print(ReportRenderer.text(LabReport(createdAt: "-", librdkafkaVersion: Librdkafka.version, scenarios: [result.summary])))
        XCTAssertEqual(result.problems, [], "log: \(result.clientLogTail)")
        XCTAssertEqual(result.summary.lost, 0)
        XCTAssertGreaterThan(result.summary.failedSends, 0, "sends during the freeze time out")
        XCTAssertNotNil(result.summary.recoveryMs)
    }
}

/// A `runnel serve` child on a loopback port with its own data directory, which the fault thread can
/// kill and restart (so its state sits behind a lock).
final class LocalBroker: @unchecked Sendable {
    let binary: String
    let port: UInt16
    let dataDir: String
    private let lock = NSLock()
    private var process: Process?

    static var binary: String {
        if let explicit = ProcessInfo.processInfo.environment["RUNNEL_BINARY"] { return explicit }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let bundle = Bundle(for: LocalBroker.self).bundleURL
        return [bundle, bundle.deletingLastPathComponent(), packageRoot.appendingPathComponent(".build/debug")]
            .map { $0.appendingPathComponent("runnel").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "runnel"
    }

    init(binary: String, port: UInt16) throws {
        self.binary = binary
        self.port = port
        dataDir = NSTemporaryDirectory() + "runnel-lab-local-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
    }

    /// Starts the broker and waits until it answers ApiVersions.
    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "serve", "--node-id", "1", "--data-dir", dataDir, "--kafka-listener", "127.0.0.1:\(port)",
            "--advertised-kafka-listener", "127.0.0.1:\(port)", "--log-level", "warning",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
        let deadline = Date().addingTimeInterval(30)
        while !NetworkProbe.answersApiVersions(host: "127.0.0.1", port: port, timeoutMs: 500) {
            guard Date() < deadline, process.isRunning else { throw LabError("the local broker did not start") }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// SIGKILL; returns once the process is gone and the port refuses connections.
    func kill() throws {
        guard let process = lock.withLock({ self.process }), process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        Foundation.kill(process.processIdentifier, SIGCONT)
        process.waitUntilExit()
        guard NetworkProbe.connect(host: "127.0.0.1", port: port, timeoutMs: 500) != .connected else {
            throw LabError("port \(port) still accepts after SIGKILL")
        }
    }

    func restart() throws { try start() }

    /// SIGSTOP, like `docker pause`: the kernel still completes handshakes, nothing answers.
    func pause() throws {
        guard let process = lock.withLock({ self.process }) else { return }
        Foundation.kill(process.processIdentifier, SIGSTOP)
        guard !NetworkProbe.answersApiVersions(host: "127.0.0.1", port: port, timeoutMs: 500) else {
            throw LabError("the broker still answers after SIGSTOP")
        }
    }

    func resume() throws {
        guard let process = lock.withLock({ self.process }) else { return }
        Foundation.kill(process.processIdentifier, SIGCONT)
        guard NetworkProbe.answersApiVersions(host: "127.0.0.1", port: port, timeoutMs: 5_000) else {
            throw LabError("the broker does not answer after SIGCONT")
        }
    }

    func stop() {
        try? kill()
        try? FileManager.default.removeItem(atPath: dataDir)
    }

    static func freePort() throws -> UInt16 {
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
