import NIOCore
import RunnelBroker
import RunnelMetadata
import RunnelCompression
import RunnelRecords
import RunnelStorage
import RunnelWire
import XCTest

final class BrokerProduceTests: XCTestCase {
    func testAcksAllAnswersOnlyAfterTheFsyncCompleted() async throws {
        let harness = try await BrokerHarness()
        try await harness.createTopic("t")
        let request = BrokerHarness.produceRequest(topic: "t", records: try BrokerHarness.batch(["a", "b"]), acks: -1)
        let produce = Task { try await harness.call(request, version: 9) }
        // The append is written; without a sync pass the answer must not come.
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertGreaterThan(harness.syncs.waiterCount, 0, "the append asked for an fsync")
        let fetchBefore = try await harness.call(BrokerHarness.fetchRequest(topic: "t", offset: 0), version: 12)
        XCTAssertEqual(fetchBefore?.responses.first?.partitions.first?.highWatermark, 0, "consumers see nothing unsynced")
        harness.runSyncs()
        let response = try await produce.value
        let partition = try XCTUnwrap(response?.responses.first?.partitionResponses.first)
        XCTAssertEqual(partition.errorCode, 0)
        XCTAssertEqual(partition.baseOffset, 0)
        let fetched = try await harness.call(BrokerHarness.fetchRequest(topic: "t", offset: 0), version: 12)
        XCTAssertEqual(try values(fetched?.responses.first?.partitions.first?.records), ["a", "b"])
    }

    func testAcksZeroGetsNoResponseAndAcksOneAnswersBeforeTheFsync() async throws {
        let harness = try await BrokerHarness()
        try await harness.createTopic("t")
        let none = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: try BrokerHarness.batch(["x"]), acks: 0), version: 7)
        XCTAssertNil(none)
        let one = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: try BrokerHarness.batch(["y"]), acks: 1), version: 7)
        XCTAssertEqual(one?.responses.first?.partitionResponses.first?.baseOffset, 1)
    }

    func testCorruptBatchIsRefusedAndNothingOfItIsStored() async throws {
        let harness = try await BrokerHarness()
        try await harness.createTopic("t")
        var records = try BrokerHarness.batch(["good", "data"])
        let index = records.writerIndex - 3
        records.setInteger(records.getInteger(at: index, as: UInt8.self)! ^ 0xFF, at: index)
        let response = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: records, acks: 1), version: 9)
        XCTAssertEqual(response?.responses.first?.partitionResponses.first?.errorCode, ErrorCode.corruptMessage.rawValue)
        var list = ListOffsetsRequest()
        list.topics = [listTopic("t", timestamp: -1)]
        harness.runSyncs()
        let offsets = try await harness.call(list, version: 7)
        XCTAssertEqual(offsets?.topics.first?.partitions.first?.offset, 0)
    }

    func testProduceToAMissingTopicIsUnknownAndDoesNotCreateIt() async throws {
        let harness = try await BrokerHarness()
        let response = try await harness.call(BrokerHarness.produceRequest(topic: "missing", records: try BrokerHarness.batch(["a"]), acks: 1), version: 9)
        XCTAssertEqual(response?.responses.first?.partitionResponses.first?.errorCode, ErrorCode.unknownTopicOrPartition.rawValue)
        var metadata = MetadataRequest()
        metadata.topics = nil
        let all = try await harness.call(metadata, version: 12)
        XCTAssertEqual(all?.topics.count, 0)
    }

    func testProduceVersionsBelowThreeAreAnsweredUnsupported() async throws {
        let harness = try await BrokerHarness()
        try await harness.createTopic("t")
        let response = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: try BrokerHarness.batch(["a"]), acks: 1), version: 2)
        XCTAssertEqual(response?.responses.first?.partitionResponses.first?.errorCode, ErrorCode.unsupportedVersion.rawValue)
    }

    func testMinInsyncReplicasAboveTheISRRefusesAcksAll() async throws {
        let harness = try await BrokerHarness()
        try await harness.createTopic("t", configs: ["min.insync.replicas": "2"])
        let response = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: try BrokerHarness.batch(["a"]), acks: -1), version: 9)
        XCTAssertEqual(response?.responses.first?.partitionResponses.first?.errorCode, ErrorCode.notEnoughReplicas.rawValue)
        let relaxed = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: try BrokerHarness.batch(["a"]), acks: 1), version: 9)
        XCTAssertEqual(relaxed?.responses.first?.partitionResponses.first?.errorCode, 0, "acks=1 does not need the ISR")
    }

    func testAcknowledgedRecordsSurviveACrashAndTheTopicsWithThem() async throws {
        let fs = SimulatedFileSystem()
        do {
            let harness = try await BrokerHarness(fileSystem: fs)
            try await harness.createTopic("t", partitions: 2)
            let pump = harness.pumpSyncs()
            let response = try await harness.call(BrokerHarness.produceRequest(topic: "t", partition: 1, records: try BrokerHarness.batch(["kept"]), acks: -1), version: 9)
            XCTAssertEqual(response?.responses.first?.partitionResponses.first?.errorCode, 0)
            pump.cancel()
            // An acks=1 append never synced is allowed to vanish.
            _ = try await harness.call(BrokerHarness.produceRequest(topic: "t", partition: 1, records: try BrokerHarness.batch(["maybe"]), acks: 1), version: 9)
        }
        fs.crash()
        let restarted = try await BrokerHarness(fileSystem: fs)
        let pump = restarted.pumpSyncs()
        defer { pump.cancel() }
        let fetched = try await restarted.call(BrokerHarness.fetchRequest(topic: "t", partition: 1, offset: 0), version: 12)
        let partition = try XCTUnwrap(fetched?.responses.first?.partitions.first)
        XCTAssertEqual(partition.errorCode, 0)
        XCTAssertEqual(try values(partition.records), ["kept"])
    }

}

final class BrokerFetchAndOffsetTests: XCTestCase {
    func testLongPollFetchIsWokenByAnAppendBeforeItsDeadline() async throws {
        let harness = try await BrokerHarness()
        try await harness.createTopic("t")
        let pump = harness.pumpSyncs()
        defer { pump.cancel() }
        let clock = ContinuousClock()
        let started = clock.now
        let fetch = Task { try await harness.call(BrokerHarness.fetchRequest(topic: "t", offset: 0, maxWaitMs: 20_000), version: 12) }
        try await Task.sleep(for: .milliseconds(100))
        _ = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: try BrokerHarness.batch(["wake"]), acks: 1), version: 9)
        let response = try await fetch.value
        XCTAssertEqual(try values(response?.responses.first?.partitions.first?.records), ["wake"])
        XCTAssertLessThan(clock.now - started, .seconds(10), "woken by the append, not by the deadline")
    }

    func testListOffsetsFindsTheExactRecordByTimeAndTheWatermarks() async throws {
        let harness = try await BrokerHarness()
        try await harness.createTopic("t")
        let pump = harness.pumpSyncs()
        defer { pump.cancel() }
        for (i, codec) in [RunnelCompression.CompressionCodec.gzip, .zstd].enumerated() {
            let batch = try BrokerHarness.batch((0..<5).map { "v\(i)-\($0)" }, timestampMs: 1_000 + Int64(i) * 100, codec: codec)
            _ = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: batch, acks: -1), version: 9)
        }
        for (timestamp, expected) in [(Int64(-2), Int64(0)), (-1, 10), (1_003, 3), (1_101, 6), (5_000, -1)] {
            var request = ListOffsetsRequest()
            request.replicaId = -1
            request.topics = [listTopic("t", timestamp: timestamp)]
            let response = try await harness.call(request, version: 7)
            XCTAssertEqual(response?.topics.first?.partitions.first?.offset, expected, "timestamp \(timestamp)")
        }
        var max = ListOffsetsRequest()
        max.topics = [listTopic("t", timestamp: -3)]
        let maxResponse = try await harness.call(max, version: 7)
        XCTAssertEqual(maxResponse?.topics.first?.partitions.first?.offset, 9)
        XCTAssertEqual(maxResponse?.topics.first?.partitions.first?.timestamp, 1_104)
    }

    func testIncrementalFetchSessionAnswersOnlyPartitionsWithNews() async throws {
        let harness = try await BrokerHarness()
        try await harness.createTopic("t", partitions: 2)
        let pump = harness.pumpSyncs()
        defer { pump.cancel() }
        var request = BrokerHarness.fetchRequest(topic: "t", offset: 0)
        var second = request.topics[0].partitions[0]
        second.partition = 1
        request.topics[0].partitions.append(second)
        request.sessionId = 0
        request.sessionEpoch = 0
        let firstMaybe = try await harness.call(request, version: 12)

        let first = try XCTUnwrap(firstMaybe)
        XCTAssertNotEqual(first.sessionId, 0)
        XCTAssertEqual(first.responses.first?.partitions.count, 2, "a new session answers in full")

        _ = try await harness.call(BrokerHarness.produceRequest(topic: "t", partition: 1, records: try BrokerHarness.batch(["news"]), acks: -1), version: 9)
        var incremental = FetchRequest()
        incremental.replicaId = -1
        incremental.maxBytes = 1 << 20
        incremental.sessionId = first.sessionId
        incremental.sessionEpoch = 1
        let nextMaybe = try await harness.call(incremental, version: 12)

        let next = try XCTUnwrap(nextMaybe)
        XCTAssertEqual(next.errorCode, 0)
        XCTAssertEqual(next.responses.first?.partitions.map(\.partitionIndex), [1])
        XCTAssertEqual(try values(next.responses.first?.partitions.first?.records), ["news"])

        incremental.sessionEpoch = 7
        let wrong = try await harness.call(incremental, version: 12)
        XCTAssertEqual(wrong?.errorCode, ErrorCode.invalidFetchSessionEpoch.rawValue)
        incremental.sessionId = 999
        incremental.sessionEpoch = 1
        let missing = try await harness.call(incremental, version: 12)
        XCTAssertEqual(missing?.errorCode, ErrorCode.fetchSessionIdNotFound.rawValue)
    }

    func testDeleteRecordsMovesTheLogStartOffsetDurably() async throws {
        let fs = SimulatedFileSystem()
        do {
            let harness = try await BrokerHarness(fileSystem: fs)
            try await harness.createTopic("t")
            let pump = harness.pumpSyncs()
            _ = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: try BrokerHarness.batch(["a", "b", "c"]), acks: -1), version: 9)
            var request = DeleteRecordsRequest()
            var topic = DeleteRecordsRequest.DeleteRecordsTopic()
            topic.name = "t"
            var partition = DeleteRecordsRequest.DeleteRecordsPartition()
            partition.partitionIndex = 0
            partition.offset = 2
            topic.partitions = [partition]
            request.topics = [topic]
            let response = try await harness.call(request, version: 2)
            XCTAssertEqual(response?.topics.first?.partitions.first?.lowWatermark, 2)
            partition.offset = 99
            request.topics[0].partitions = [partition]
            let beyond = try await harness.call(request, version: 2)
            XCTAssertEqual(beyond?.topics.first?.partitions.first?.errorCode, ErrorCode.offsetOutOfRange.rawValue)
            pump.cancel()
        }
        fs.crash()
        let restarted = try await BrokerHarness(fileSystem: fs)
        var list = ListOffsetsRequest()
        list.topics = [listTopic("t", timestamp: -2)]
        let earliest = try await restarted.call(list, version: 7)
        XCTAssertEqual(earliest?.topics.first?.partitions.first?.offset, 2)
    }

    func testOffsetForLeaderEpochAnswersTheEndOfTheEpoch() async throws {
        let harness = try await BrokerHarness()
        try await harness.createTopic("t")
        let pump = harness.pumpSyncs()
        defer { pump.cancel() }
        _ = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: try BrokerHarness.batch(["a", "b"]), acks: -1), version: 9)
        var request = OffsetForLeaderEpochRequest()
        request.replicaId = -1
        var topic = OffsetForLeaderEpochRequest.OffsetForLeaderTopic()
        topic.topic = "t"
        var partition = OffsetForLeaderEpochRequest.OffsetForLeaderPartition()
        partition.partition = 0
        partition.currentLeaderEpoch = 0
        partition.leaderEpoch = 0
        topic.partitions = [partition]
        request.topics = [topic]
        let response = try await harness.call(request, version: 4)
        let result = try XCTUnwrap(response?.topics.first?.partitions.first)
        XCTAssertEqual(result.errorCode, 0)
        XCTAssertEqual(result.leaderEpoch, 0)
        XCTAssertEqual(result.endOffset, 2)
        partition.currentLeaderEpoch = 5
        request.topics[0].partitions = [partition]
        let future = try await harness.call(request, version: 4)
        XCTAssertEqual(future?.topics.first?.partitions.first?.errorCode, ErrorCode.unknownLeaderEpoch.rawValue)
    }
}

final class BrokerProtocolTests: XCTestCase {
    func testApiVersionsOfAnUnknownVersionIsAnsweredInTheV0FormatWithOurRanges() async throws {
        let harness = try await BrokerHarness()
        var frame = ByteBuffer()
        frame.writeInteger(Int16(18))  // ApiVersions
        frame.writeInteger(Int16(4))  // a version we don't know
        frame.writeInteger(Int32(77))
        frame.writeInteger(Int16(-1))
        frame.writeInteger(UInt8(0))
        guard case .respond(let payload) = await harness.broker.handle(frame: frame, listener: "CLIENT", peer: "t") else {
            return XCTFail("expected an answer")
        }
        let (header, response) = try ResponseFrame.decode(ApiVersionsResponse.self, version: 0, payload: payload)
        XCTAssertEqual(header.correlationId, 77)
        XCTAssertEqual(response.errorCode, ErrorCode.unsupportedVersion.rawValue)
        XCTAssertTrue(response.apiKeys.contains { $0.apiKey == 18 && $0.maxVersion == 3 })
    }

    func testAdvertisedVersionsAreExactlyTheServedTable() async throws {
        let harness = try await BrokerHarness()
        let responseMaybe = try await harness.call(ApiVersionsRequest(), version: 3)

        let response = try XCTUnwrap(responseMaybe)
        let table = Dictionary(uniqueKeysWithValues: response.apiKeys.map { ($0.apiKey, $0.minVersion...$0.maxVersion) })
        XCTAssertEqual(table[0], 0...9)
        XCTAssertEqual(table[1], 4...12)
        XCTAssertEqual(table[3], 0...12)
        XCTAssertEqual(table[60], 0...1)
        XCTAssertEqual(table[11], 0...7, "JoinGroup 0 stays in range: older librdkafka needs it for its group consumer")
        XCTAssertEqual(table[8], 2...9, "OffsetCommit")
        XCTAssertEqual(table[9], 1...7, "OffsetFetch")
        XCTAssertEqual(table[22], 0...4, "InitProducerId")
        XCTAssertEqual(table.count, 25)
    }

    func testGarbageAndUnknownApisCloseTheConnectionWithoutHarm() async throws {
        let harness = try await BrokerHarness()
        var unknown = ByteBuffer()
        unknown.writeInteger(Int16(999))
        unknown.writeInteger(Int16(0))
        unknown.writeInteger(Int32(1))
        unknown.writeInteger(Int16(-1))
        for frame in [ByteBuffer(bytes: [1, 2, 3]), unknown, ByteBuffer(bytes: (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 31) })] {
            guard case .close = await harness.broker.handle(frame: frame, listener: "CLIENT", peer: "t") else {
                return XCTFail("garbage must close the connection")
            }
        }
        let still = try await harness.call(ApiVersionsRequest(), version: 3)
        XCTAssertEqual(still?.errorCode, 0)
    }

    func testMetadataAutoCreatesOnlyWhenTheClientAllowsIt() async throws {
        let harness = try await BrokerHarness()
        var request = MetadataRequest()
        var topic = MetadataRequest.MetadataRequestTopic()
        topic.name = "auto"
        request.topics = [topic]
        request.allowAutoTopicCreation = false
        let refused = try await harness.call(request, version: 12)
        XCTAssertEqual(refused?.topics.first?.errorCode, ErrorCode.unknownTopicOrPartition.rawValue)
        request.allowAutoTopicCreation = true
        let createdMaybe = try await harness.call(request, version: 12)

        let created = try XCTUnwrap(createdMaybe)
        XCTAssertEqual(created.topics.first?.errorCode, 0)
        XCTAssertEqual(created.topics.first?.partitions.first?.leaderId, 1)
        XCTAssertEqual(created.topics.first?.partitions.first?.leaderEpoch, 0)
        XCTAssertFalse(created.topics.first!.topicId.isZero, "topic ids from v10")
        XCTAssertEqual(created.brokers.map(\.host), ["localhost"])
        let v0 = try await harness.call(MetadataRequest(), version: 0)
        XCTAssertEqual(v0?.topics.map(\.name), ["auto"], "v0 with an empty list asks for every topic")
        topic.name = "bad name!"
        request.topics = [topic]
        let invalid = try await harness.call(request, version: 12)
        XCTAssertEqual(invalid?.topics.first?.errorCode, ErrorCode.invalidTopicException.rawValue)
    }

    func testTopicConfigsAreDescribedAndAlteredThroughTheMetadataLog() async throws {
        let harness = try await BrokerHarness { $0.topicDefaults = ["log.retention.ms": "1000"] }
        try await harness.createTopic("t", configs: ["cleanup.policy": "compact"])
        var describe = DescribeConfigsRequest()
        var resource = DescribeConfigsRequest.DescribeConfigsResource()
        resource.resourceType = 2
        resource.resourceName = "t"
        resource.configurationKeys = nil
        describe.resources = [resource]
        let describedMaybe = try await harness.call(describe, version: 4)?.results.first

        let described = try XCTUnwrap(describedMaybe)
        let byName = Dictionary(uniqueKeysWithValues: described.configs.map { ($0.name, $0) })
        XCTAssertEqual(byName["cleanup.policy"]?.value, "compact")
        XCTAssertEqual(byName["cleanup.policy"]?.configSource, 1)
        XCTAssertEqual(byName["retention.ms"]?.value, "1000")
        XCTAssertEqual(byName["retention.ms"]?.configSource, 4)

        var alter = IncrementalAlterConfigsRequest()
        var alterResource = IncrementalAlterConfigsRequest.AlterConfigsResource()
        alterResource.resourceType = 2
        alterResource.resourceName = "t"
        var config = IncrementalAlterConfigsRequest.AlterableConfig()
        config.name = "retention.ms"
        config.configOperation = 0
        config.value = "not-a-number"
        alterResource.configs = [config]
        alter.resources = [alterResource]
        let invalid = try await harness.call(alter, version: 1)
        XCTAssertEqual(invalid?.responses.first?.errorCode, ErrorCode.invalidConfig.rawValue)
        alter.resources[0].configs[0].value = "5000"
        let altered = try await harness.call(alter, version: 1)
        XCTAssertEqual(altered?.responses.first?.errorCode, 0)
        resource.configurationKeys = ["retention.ms"]
        describe.resources = [resource]
        let after = try await harness.call(describe, version: 4)
        XCTAssertEqual(after?.results.first?.configs.map(\.value), ["5000"])
    }
}

func listTopic(_ name: String, timestamp: Int64) -> ListOffsetsRequest.ListOffsetsTopic {
    var p = ListOffsetsRequest.ListOffsetsPartition()
    p.partitionIndex = 0
    p.timestamp = timestamp
    p.currentLeaderEpoch = -1
    var t = ListOffsetsRequest.ListOffsetsTopic()
    t.name = name
    t.partitions = [p]
    return t
}

final class BrokerListenerTests: XCTestCase {
    func testMetadataAnswersWithTheAddressesOfTheListenerTheRequestArrivedOn() async throws {
        let harness = try await BrokerHarness { settings in
            settings.advertisedEndpoints = [
                Endpoint(listener: "CLIENT", host: "localhost", port: 9092),
                Endpoint(listener: "INTERNAL", host: "runnel-1", port: 9192),
            ]
        }
        for (listener, host, port) in [("CLIENT", "localhost", Int32(9092)), ("INTERNAL", "runnel-1", 9192)] {
            var frame = ByteBuffer()
            try RequestFrame.encode(MetadataRequest(), version: 12, correlationId: 1, clientId: "t", into: &frame)
            frame.moveReaderIndex(forwardBy: 4)
            guard case .respond(let payload) = await harness.broker.handle(frame: frame, listener: listener, peer: "t") else {
                return XCTFail("expected an answer")
            }
            let (_, response) = try ResponseFrame.decode(MetadataResponse.self, version: 12, payload: payload)
            XCTAssertEqual(response.brokers.map(\.host), [host], listener)
            XCTAssertEqual(response.brokers.map(\.port), [port], listener)
        }
    }
}

final class BrokerTopicSettingsTests: XCTestCase {
    func testLogAppendTimeTopicsStampTheBrokersTimeAndSayItInTheAnswer() async throws {
        let harness = try await BrokerHarness()
        try await harness.createTopic("t", configs: ["message.timestamp.type": "LogAppendTime"])
        let pump = harness.pumpSyncs()
        defer { pump.cancel() }
        let response = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: try BrokerHarness.batch(["a"], timestampMs: 5), acks: -1), version: 9)
        let appendTime = try XCTUnwrap(response?.responses.first?.partitionResponses.first?.logAppendTimeMs)
        XCTAssertGreaterThan(appendTime, 1_600_000_000_000, "the broker's clock, not the producer's timestamp 5")
        let fetched = try await harness.call(BrokerHarness.fetchRequest(topic: "t", offset: 0), version: 12)
        let records = try XCTUnwrap(fetched?.responses.first?.partitions.first?.records)
        let batch = try RecordBatch(decoding: records, maxUncompressedBytes: 1 << 20)
        XCTAssertEqual(batch.header.timestampType, .logAppendTime)
        XCTAssertEqual(batch.header.maxTimestampMs, appendTime)
    }

    func testABatchOverMaxMessageBytesIsRefusedAsTooLarge() async throws {
        let harness = try await BrokerHarness()
        try await harness.createTopic("t", configs: ["max.message.bytes": "1000"])
        let big = try BrokerHarness.batch([String(repeating: "x", count: 2000)])
        let response = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: big, acks: 1), version: 9)
        XCTAssertEqual(response?.responses.first?.partitionResponses.first?.errorCode, ErrorCode.messageTooLarge.rawValue)
        let small = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: try BrokerHarness.batch(["ok"]), acks: 1), version: 9)
        XCTAssertEqual(small?.responses.first?.partitionResponses.first?.baseOffset, 0, "nothing of the refused batch was stored")
    }

    func testADataDirectoryOfAnotherNodeIsRefused() async throws {
        let fs = SimulatedFileSystem()
        _ = try await BrokerHarness(fileSystem: fs)
        do {
            _ = try await BrokerHarness(fileSystem: fs) { $0.nodeID = 2 }
            XCTFail("node 2 must not open node 1's directory")
        } catch let mismatch as NodeIdentity.Mismatch {
            XCTAssertEqual(mismatch, .otherNode(found: 1, expected: 2))
        }
    }
}
