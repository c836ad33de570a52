import Logging
import NIOCore
import RunnelBroker
import RunnelMetadata
import RunnelServer
import RunnelStorage
import RunnelWire
import Synchronization
import XCTest

@testable import RunnelBroker

/// What the broker keeps per client id and per topic: bounded, gone with its topic, and safe to log.
final class ClientBookkeepingTests: XCTestCase {
    private func makeBroker(logs: BrokerLogLines, metrics: PrometheusMetricsFactory) async throws -> (Broker, ManualSyncScheduler) {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectory(BrokerHarness.dataDirectory)
        try fileSystem.syncDirectory("/")
        let settings = BrokerSettings(
            nodeID: 1, clusterID: "test-cluster", dataDirectory: BrokerHarness.dataDirectory,
            advertisedEndpoints: [Endpoint(listener: "CLIENT", host: "localhost", port: 9092)])
        var logger = Logger(label: "test") { _ in BrokerLogLineHandler(sink: logs) }
        logger.logLevel = .debug
        let clock = WallClock()
        let syncs = ManualSyncScheduler()
        let broker = try await Broker(
            settings: settings, fileSystem: fileSystem, syncScheduler: syncs, logger: logger, metricsFactory: metrics,
            nowMs: { clock.nowMs })
        return (broker, syncs)
    }

    private func call<Request: KafkaRequestMessage>(
        _ broker: Broker, _ request: Request, version: Int16, clientId: String, syncs: ManualSyncScheduler? = nil
    ) async throws -> Request.Response? {
        var frame = ByteBuffer()
        try RequestFrame.encode(request, version: version, correlationId: 1, clientId: clientId, into: &frame)
        frame.moveReaderIndex(forwardBy: 4)
        var reply = await broker.handle(frame: frame, listener: "CLIENT", peer: "test")
        while case .later(let task) = reply {
            syncs?.runPass()
            reply = await task.value
        }
        guard case .respond(let payload) = reply else { return nil }
        return try ResponseFrame.decode(Request.Response.self, version: version, payload: payload).message
    }

    func testPerClientIdNegotiationMemoryIsBounded() async throws {
        let logs = BrokerLogLines()
        let (broker, _) = try await makeBroker(logs: logs, metrics: PrometheusMetricsFactory())
        for index in 0..<5_000 {
            let response = try await call(broker, ApiVersionsRequest(), version: 3, clientId: "client-\(index)")
            XCTAssertEqual(response?.errorCode, 0)
        }
        XCTAssertLessThanOrEqual(broker.negotiatedCount, Broker.negotiatedEntriesMax, "one entry per client id ever seen is unbounded")
        let capLines = logs.lines.filter { $0.contains("negotiated") && $0.contains("forgetting") }
        XCTAssertEqual(capLines.count, 1, "the cap biting is said once: \(capLines)")
    }

    func testControlCharactersInClientIdsAreEscapedInLogs() async throws {
        let logs = BrokerLogLines()
        let (broker, _) = try await makeBroker(logs: logs, metrics: PrometheusMetricsFactory())
        let hostile = "evil\nINFO forged line \u{1b}[31mred\u{7}"
        let response = try await call(broker, ApiVersionsRequest(), version: 3, clientId: hostile)
        XCTAssertEqual(response?.errorCode, 0)
        let mentioning = logs.lines.filter { $0.contains("evil") }
        XCTAssertFalse(mentioning.isEmpty, "the negotiated line names the client")
        for line in mentioning {
            XCTAssertFalse(line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "raw control character in \(line.debugDescription)")
            XCTAssertTrue(line.contains("evil\\nINFO forged line \\u{1B}[31mred\\u{07}"), line)
        }
    }

    func testLoggedClientTextIsUnambiguousAndBounded() {
        XCTAssertEqual(escapedForLog("a\\n"), "a\\\\n", "a literal backslash-n is not mistaken for an escaped newline")
        XCTAssertEqual(escapedForLog("left\u{202E}right\u{2028}\r\t"), "left\\u{202E}right\\u{2028}\\r\\t")
        XCTAssertEqual(escapedForLog("ünïcode ok"), "ünïcode ok")
        let long = String(repeating: "x", count: 32_767)
        XCTAssertEqual(escapedForLog(long), String(repeating: "x", count: 256) + "…(32511 more)")
    }

    func testPerTopicMetricSeriesGoWithTheirTopic() async throws {
        let metrics = PrometheusMetricsFactory()
        let (broker, syncs) = try await makeBroker(logs: BrokerLogLines(), metrics: metrics)
        var create = CreateTopicsRequest()
        var topic = CreateTopicsRequest.CreatableTopic()
        topic.name = "doomed"
        topic.numPartitions = 2
        topic.replicationFactor = 1
        create.topics = [topic]
        let created = try await call(broker, create, version: 5, clientId: "admin")
        XCTAssertEqual(created?.topics.first?.errorCode, 0)
        for partition in Int32(0)...1 {
            let produce = BrokerHarness.produceRequest(
                topic: "doomed", partition: partition, records: try BrokerHarness.batch(["a", "b"]), acks: 1)
            let produced = try await call(broker, produce, version: 7, clientId: "producer", syncs: syncs)
            XCTAssertEqual(produced?.responses.first?.partitionResponses.first?.errorCode, 0)
        }
        let fetched = try await call(broker, BrokerHarness.fetchRequest(topic: "doomed", offset: 0), version: 11, clientId: "consumer")
        XCTAssertEqual(fetched?.responses.first?.partitions.first?.errorCode, 0)
        let before = metrics.render()
        XCTAssertTrue(before.contains("topic=\"doomed\""), before)

        var delete = DeleteTopicsRequest()
        delete.topicNames = ["doomed"]
        let deleted = try await call(broker, delete, version: 4, clientId: "admin")
        XCTAssertEqual(deleted?.responses.first?.errorCode, 0)
        let after = metrics.render()
        let left = after.split(separator: "\n").filter { $0.contains("topic=\"doomed\"") }
        XCTAssertEqual(left, [], "series of a deleted topic are removed with it")
    }
}

/// Every formatted log line, for checks on what an operator's log would contain.
final class BrokerLogLines: Sendable {
    private let stored = Mutex<[String]>([])
    var lines: [String] { stored.withLock { $0 } }
    func append(_ line: String) { stored.withLock { $0.append(line) } }
}

struct BrokerLogLineHandler: LogHandler {
    let sink: BrokerLogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        sink.append("\(event.level) \(event.message)")
    }
}
