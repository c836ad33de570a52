import Foundation
import NIOCore
import RunnelRecords
import RunnelWire
import XCTest

/// Hostile clients against the network shell's limits (items 6, 7 and 12 of issue 12): a client that
/// never reads its answers, connections that announce big requests, client ids made to forge log lines.
final class HostileServerTests: XCTestCase {
    /// Resident memory of `pid` in bytes, from /proc.
    private func residentBytes(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kib * 1024
    }

    /// The most memory the broker reaches above `baseline` within `seconds`; stops early past `giveUpBytes`.
    private func peakGrowth(_ broker: BrokerProcess, above baseline: Int, seconds: Double, giveUpBytes: Int) -> Int {
        guard let pid = broker.process?.processIdentifier else { return 0 }
        var peak = 0
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, peak < giveUpBytes {
            peak = max(peak, residentBytes(pid) - baseline)
            Thread.sleep(forTimeInterval: 0.1)
        }
        return peak
    }

    private func createTopic(_ name: String, client: HostileClient) throws {
        let response = try client.call(HostileRequests.createTopics([name]), version: 5)
        XCTAssertEqual(response?.topics.first?.errorCode, 0, response?.topics.first?.errorMessage ?? "no answer")
    }

    func testAClientThatPipelinesFetchesAndNeverReadsCannotGrowTheBrokersMemory() throws {
        try Tools.requireBroker()
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let setup = try HostileClient(port: broker.port)
        try createTopic("pressure", client: setup)
        // Almost 1 MiB in the log (one batch under max.message.bytes), so that each fetch answer is as big.
        var builder = RecordBatchBuilder()
        for index in 0..<15 {
            builder.append(key: nil, value: [UInt8](repeating: UInt8(index), count: 64 * 1024), timestampMs: 1_700_000_000_000)
        }
        var partition = ProduceRequest.PartitionProduceData()
        partition.index = 0
        partition.records = try builder.build()
        var produce = ProduceRequest()
        produce.acks = -1  // answered once the high watermark covers the batch, so fetches see it
        produce.timeoutMs = 10_000
        produce.topicData = [ProduceRequest.TopicProduceData(name: "pressure", partitionData: [partition])]
        let produced = try setup.call(produce, version: 7)
        XCTAssertEqual(produced?.responses.first?.partitionResponses.first?.errorCode, 0)

        var fetchPartition = FetchRequest.FetchPartition()
        fetchPartition.partitionMaxBytes = 2 << 20
        var fetch = FetchRequest()
        fetch.maxWaitMs = 0
        fetch.minBytes = 1
        fetch.maxBytes = 2 << 20
        fetch.topics = [FetchRequest.FetchTopic(topic: "pressure", partitions: [fetchPartition])]
        let answered = try setup.call(fetch, version: 4)
        XCTAssertGreaterThan(answered?.responses.first?.partitions.first?.records?.readableBytes ?? 0, 15 << 16)

        let pid = try XCTUnwrap(broker.process?.processIdentifier)
        let baseline = residentBytes(pid)
        let hostile = try HostileClient(port: broker.port, receiveTimeoutSeconds: 2)
        let request = try hostile.frame(fetch, version: 4)
        var pipelined: [UInt8] = []
        for _ in 0..<1_000 { pipelined += request }  // 1 000 answers of 1 MiB: 1 GB if the broker queues them
        hostile.send(pipelined)
        let growth = peakGrowth(broker, above: baseline, seconds: 6, giveUpBytes: 400 << 20)
        XCTAssertLessThan(growth, 200 << 20, "the broker queued \(growth >> 20) MiB of answers nobody reads")
        broker.assertStillServes("a client pipelining fetches without reading")
        let again = try HostileClient(port: broker.port)
        let stillFetches = try again.call(fetch, version: 4)
        XCTAssertEqual(stillFetches?.responses.first?.partitions.first?.errorCode, 0, "other clients still fetch")
        _ = hostile
    }

    func testConnectionsThatAnnounceBigRequestsHoldNoMoreThanTheBrokerWideBudget() throws {
        try Tools.requireBroker()
        let frameBytes = 8 << 20
        let budgetBytes = 32 << 20
        let broker = try BrokerProcess(extraArguments: [
            "--socket-request-max-bytes", "\(frameBytes)", "--queued-max-request-bytes", "\(budgetBytes)",
        ])
        defer { broker.stop() }
        let pid = try XCTUnwrap(broker.process?.processIdentifier)
        let baseline = residentBytes(pid)
        // 40 connections each send 7 MiB of an 8 MiB request and then wait: 280 MiB held without a budget.
        let connections = 40
        let clients = HostileClients()
        let port = broker.port
        // One thread each: a muted connection's send blocks until its timeout.
        let sent = DispatchGroup()
        for _ in 0..<connections {
            DispatchQueue.global().async(group: sent) {
                guard let client = try? HostileClient(port: port, receiveTimeoutSeconds: 3) else { return }
                var bytes: [UInt8] = []
                bytes.reserveCapacity(frameBytes)
                withUnsafeBytes(of: Int32(frameBytes - 4).bigEndian) { bytes += $0 }
                bytes += [UInt8](repeating: 0x42, count: 7 << 20)
                clients.keep(client)
                client.send(bytes)
            }
        }
        _ = sent.wait(timeout: .now() + 30)
        let growth = peakGrowth(broker, above: baseline, seconds: 4, giveUpBytes: 400 << 20)
        XCTAssertLessThan(growth, 120 << 20, "partial requests held \(growth >> 20) MiB against a budget of \(budgetBytes >> 20) MiB")
        XCTAssertTrue(broker.log.contains("request memory"), "the budget biting is logged; log:\n\(broker.log.suffix(3000))")
        clients.closeAll()
        Thread.sleep(forTimeInterval: 0.5)
        broker.assertStillServes("after connections holding the whole request budget went away")
    }

    func testClientIdsCannotForgeLogLines() throws {
        try Tools.requireBroker()
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let client = try HostileClient(port: broker.port)
        let hostileId = "x\n2030-01-01T00:00:00Z critical runnel : forged \u{1b}[2J"
        let response = try client.call(ApiVersionsRequest(), version: 3, clientId: hostileId)
        XCTAssertEqual(response?.errorCode, 0)
        Thread.sleep(forTimeInterval: 0.3)
        let log = broker.log
        XCTAssertFalse(log.contains("\u{1b}"), "an escape sequence from a client id reached the log")
        XCTAssertFalse(log.split(separator: "\n").contains { $0.hasPrefix("2030-01-01T00:00:00Z critical") }, "a forged log line")
        broker.assertStillServes("a client id with control characters")
    }
}

/// Keeps hostile connections open across threads until the test closes them.
final class HostileClients: @unchecked Sendable {
    private let lock = NSLock()
    private var clients: [HostileClient] = []

    func keep(_ client: HostileClient) {
        lock.lock()
        clients.append(client)
        lock.unlock()
    }

    func closeAll() {
        lock.lock()
        clients = []
        lock.unlock()
    }
}
