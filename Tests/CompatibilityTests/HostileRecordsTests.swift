import Foundation
import NIOCore
import RunnelCompression
import RunnelRecords
import RunnelTestSupport
import RunnelWire
import XCTest

/// Hostile input inside record batches (issue 12, items 1 and 9): CRC-valid batches whose records lie
/// about their lengths, counts or offsets, and compressed batches that inflate without bound. Each is
/// refused as Kafka refuses it, nothing is stored, and the broker keeps serving and restarts.
final class HostileRecordsTests: XCTestCase {
    static let messageTooLarge: Int16 = 10
    static let invalidRecord: Int16 = 87

    func testMalformedRecordsAreRefusedOnDeleteAndCompactedTopicsAndNothingIsStored() throws {
        try Tools.requireBroker()
        let broker = try BrokerProcess()
        defer { broker.stop() }
        var client = try HostileClient(port: broker.port)
        for (topic, policy) in [("plain", "delete"), ("keyed", "compact")] {
            XCTAssertEqual(try Self.createTopic(client, topic, configs: ["cleanup.policy": policy]), 0)
            XCTAssertEqual(try Self.produce(client, topic, Self.goodBatch()), 0, "a well-formed batch to \(topic)")
        }
        for (topic, _) in [("plain", "delete"), ("keyed", "compact")] {
            for (name, batch) in PoisonBatch.named {
                let before = try Self.latestOffset(client, topic)
                let code = try Self.produce(client, topic, batch)
                XCTAssertEqual(code, Self.invalidRecord, "\(name) to \(topic)")
                broker.assertStillServes("\(name) to \(topic)")
                if code == nil {  // it died: start it again, to list every failure
                    broker.kill()
                    try broker.start()
                    client = try HostileClient(port: broker.port)
                }
                XCTAssertEqual(try Self.latestOffset(client, topic), before, "\(name) to \(topic) stored nothing")
            }
        }
        broker.assertRestartsAndServes("after the malformed batches")
        client = try HostileClient(port: broker.port)
        XCTAssertEqual(try Self.latestOffset(client, "plain"), 1)
        XCTAssertEqual(try Self.latestOffset(client, "keyed"), 1)
    }

    /// The crash loop of the issue: poison produced to a delete-policy topic, which then becomes compacted;
    /// the cleaner must never take the broker down, before or after a restart. (The poison is refused on
    /// append now; poison already on disk is PoisonedBatchCleaningTests' case.)
    func testPoisonInATopicSwitchedToCompactDoesNotCrashLoopTheCleaner() throws {
        try Tools.requireBroker()
        let broker = try BrokerProcess(extraArguments: ["--log-cleaner-backoff-ms", "200"])
        defer { broker.stop() }
        let client = try HostileClient(port: broker.port)
        XCTAssertEqual(try Self.createTopic(client, "switched", configs: ["cleanup.policy": "delete", "segment.bytes": "1024"]), 0)
        for (name, batch) in PoisonBatch.named {
            XCTAssertEqual(try Self.produce(client, "switched", batch), Self.invalidRecord, name)
            broker.assertStillServes("\(name) to a delete-policy topic")
        }
        for i in 0..<40 {  // fills and rolls segments, so the poison lies below the active one
            XCTAssertEqual(try Self.produce(client, "switched", Self.goodBatch(value: "filler-\(i)-" + String(repeating: "x", count: 60))), 0)
        }
        XCTAssertEqual(try Self.alterTopicConfig(client, "switched", "cleanup.policy", "compact"), 0)
        Thread.sleep(forTimeInterval: 3)
        broker.assertStillServes("the cleaner ran over the switched topic")
        broker.assertRestartsAndServes("the switched topic")
        Thread.sleep(forTimeInterval: 3)
        broker.assertStillServes("the cleaner ran again after the restart")
    }

    /// Item 9: a topic's max.message.bytes (here 2^31-1) cannot raise how far the broker inflates a batch.
    func testADecompressionBombToACompactedTopicWithHugeMaxMessageBytesIsRefused() throws {
        try Tools.requireBroker()
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let client = try HostileClient(port: broker.port)
        XCTAssertEqual(try Self.createTopic(client, "bombed", configs: ["cleanup.policy": "compact", "max.message.bytes": "2147483647"]), 0)
        // 80 MiB of zeros under one key: a few KiB on the wire, past the broker's 64 MiB inflation bound.
        var builder = RecordBatchBuilder(codec: .zstd)
        builder.append(key: Array("k".utf8), value: [UInt8](repeating: 0, count: 80 << 20), timestampMs: 1_700_000_000_000)
        let bomb = try builder.build()
        XCTAssertLessThan(bomb.readableBytes, 64 << 10)
        XCTAssertEqual(try Self.produce(client, "bombed", bomb), Self.messageTooLarge)
        broker.assertStillServes("a decompression bomb")
        XCTAssertEqual(try Self.latestOffset(client, "bombed"), 0, "the bomb was not stored")
        broker.assertRestartsAndServes("a decompression bomb")
    }

    // MARK: Requests

    static func goodBatch(value: String = "v") -> ByteBuffer {
        var builder = RecordBatchBuilder()
        builder.append(key: Array("k".utf8), value: Array(value.utf8), timestampMs: 1_700_000_000_000)
        return try! builder.build()  // our own input
    }

    static func createTopic(_ client: HostileClient, _ name: String, configs: [String: String]) throws -> Int16? {
        try client.call(HostileRequests.createTopics([name], configs: configs), version: 5)?.topics.first?.errorCode
    }

    static func alterTopicConfig(_ client: HostileClient, _ topic: String, _ name: String, _ value: String) throws -> Int16? {
        var config = IncrementalAlterConfigsRequest.AlterableConfig()
        config.name = name
        config.configOperation = 0  // SET
        config.value = value
        var resource = IncrementalAlterConfigsRequest.AlterConfigsResource()
        resource.resourceType = 2  // TOPIC
        resource.resourceName = topic
        resource.configs = [config]
        var request = IncrementalAlterConfigsRequest()
        request.resources = [resource]
        return try client.call(request, version: 0)?.responses.first?.errorCode
    }

    /// The partition's error code, or nil when the broker answered nothing.
    static func produce(_ client: HostileClient, _ topic: String, _ batch: ByteBuffer) throws -> Int16? {
        try client.call(HostileRequests.produce(topic: topic, records: batch), version: 8)?.responses.first?.partitionResponses.first?.errorCode
    }

    /// ListOffsets latest of partition 0, or nil when the broker answered nothing.
    static func latestOffset(_ client: HostileClient, _ topic: String) throws -> Int64? {
        var partition = ListOffsetsRequest.ListOffsetsPartition()
        partition.partitionIndex = 0
        partition.timestamp = -1
        var entry = ListOffsetsRequest.ListOffsetsTopic()
        entry.name = topic
        entry.partitions = [partition]
        var request = ListOffsetsRequest()
        request.replicaId = -1
        request.topics = [entry]
        return try client.call(request, version: 4)?.topics.first?.partitions.first?.offset
    }
}
