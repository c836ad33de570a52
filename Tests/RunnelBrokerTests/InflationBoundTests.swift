import NIOCore
import RunnelBroker
import RunnelCompression
import RunnelRecords
import RunnelStorage
import RunnelWire
import XCTest

/// Issue 12, item 9: how far the broker inflates compressed records is a broker setting
/// (`uncompressedBatchBytesMax`), which no topic config raises.
final class InflationBoundTests: XCTestCase {
    private static func zeros(_ bytes: Int) throws -> ByteBuffer {
        var builder = RecordBatchBuilder(codec: .zstd)
        builder.append(key: Array("k".utf8), value: [UInt8](repeating: 0, count: bytes), timestampMs: 1_700_000_000_000)
        return try builder.build()
    }

    private func produce(_ harness: BrokerHarness, _ topic: String, _ batch: ByteBuffer) async throws -> Int16? {
        try await harness.call(BrokerHarness.produceRequest(topic: topic, records: batch, acks: 1), version: 9)?
            .responses.first?.partitionResponses.first?.errorCode
    }

    func testProduceInflatesNoMoreThanTheBrokerSettingWhateverMaxMessageBytes() async throws {
        let harness = try await BrokerHarness { $0.uncompressedBatchBytesMax = 1 << 20 }
        for policy in ["delete", "compact"] {
            try await harness.createTopic(policy, configs: ["cleanup.policy": policy, "max.message.bytes": "2147483647"])
            let bomb = try await produce(harness, policy, try Self.zeros(2 << 20))
            XCTAssertEqual(bomb, ErrorCode.messageTooLarge.rawValue, policy)
            let fits = try await produce(harness, policy, try Self.zeros(512 << 10))
            XCTAssertEqual(fits, 0, policy)
        }
    }

    func testListOffsetsByTimestampInflatesNoMoreThanTheBrokerSetting() async throws {
        let fileSystem = SimulatedFileSystem()
        var harness = try await BrokerHarness(fileSystem: fileSystem) { $0.uncompressedBatchBytesMax = 4 << 20 }
        try await harness.createTopic("t")
        let stored = try await produce(harness, "t", try Self.zeros(2 << 20))
        XCTAssertEqual(stored, 0)
        harness.runSyncs()
        harness.broker.shutdown()

        // The same data under a lower bound: the lookup by time refuses to inflate the batch, and says so.
        harness = try await BrokerHarness(fileSystem: fileSystem) { $0.uncompressedBatchBytesMax = 1 << 20 }
        var partition = ListOffsetsRequest.ListOffsetsPartition()
        partition.timestamp = 0
        var topic = ListOffsetsRequest.ListOffsetsTopic()
        topic.name = "t"
        topic.partitions = [partition]
        var request = ListOffsetsRequest()
        request.replicaId = -1
        request.topics = [topic]
        let answer = try await harness.call(request, version: 7)?.topics.first?.partitions.first
        XCTAssertEqual(answer?.errorCode, ErrorCode.messageTooLarge.rawValue)
    }
}
