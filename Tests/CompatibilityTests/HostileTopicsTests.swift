import Foundation
import NIOCore
import RunnelRecords
import RunnelWire
import XCTest

/// Hostile input at the topic level (issue 12): internal topics, topic names at the limits, duplicated
/// entries, partition counts past what the broker's file descriptors allow, directories the metadata
/// does not name. Each test sends the raw request, checks the broker still answers and, for anything
/// persisted, that it starts again on the same data directory.
final class HostileTopicsTests: XCTestCase {
    var broker: BrokerProcess!

    override func setUpWithError() throws {
        try Tools.requireBroker()
        broker = try BrokerProcess()
    }

    override func tearDown() {
        broker?.stop()
        broker = nil
    }

    // MARK: Internal topics (item 3)

    /// A record without its header count decodes nowhere; had it reached `__consumer_offsets`, the group
    /// loader would refuse every later start. Clients may not append there at all, as in Kafka.
    func testProduceToTheOffsetsTopicIsRefusedAndTheBrokerRestarts() throws {
        let client = try HostileClient(port: broker.port)
        let response = try XCTUnwrap(try client.call(
            HostileRequests.produce(topic: "__consumer_offsets", records: try Self.batchWithoutHeaderCount()), version: 9))
        let partition = try XCTUnwrap(response.responses.first?.partitionResponses.first)
        XCTAssertEqual(partition.errorCode, ErrorCode.invalidTopicException.rawValue, partition.errorMessage ?? "")
        XCTAssertEqual(partition.errorMessage, "Cannot append to internal topic __consumer_offsets")
        broker.assertStillServes("produce to __consumer_offsets")
        broker.assertRestartsAndServes("produce to __consumer_offsets")
    }

    /// `__meta` is the broker's metadata log, not a Kafka topic: naming it neither creates nor shows it.
    func testMetadataNeverShowsTheMetadataLogEvenWhenAskedByName() throws {
        let client = try HostileClient(port: broker.port)
        var named = MetadataRequest()
        var wanted = MetadataRequest.MetadataRequestTopic()
        wanted.name = "__meta"
        named.topics = [wanted]
        named.allowAutoTopicCreation = true
        let byName = try XCTUnwrap(try client.call(named, version: 12))
        XCTAssertEqual(byName.topics.count, 1)
        XCTAssertNotEqual(byName.topics.first?.errorCode, 0, "__meta is not a topic")
        XCTAssertEqual(byName.topics.first?.partitions.count, 0)

        var all = MetadataRequest()
        all.topics = nil
        let listed = try XCTUnwrap(try client.call(all, version: 12))
        XCTAssertFalse(listed.topics.contains { $0.name == "__meta" }, "\(listed.topics.map(\.name))")

        var create = CreateTopicsRequest()
        var topic = CreateTopicsRequest.CreatableTopic()
        topic.name = "__meta"
        topic.numPartitions = 1
        topic.replicationFactor = 1
        create.topics = [topic]
        let created = try XCTUnwrap(try client.call(create, version: 5))
        XCTAssertEqual(created.topics.first?.errorCode, ErrorCode.invalidRequest.rawValue, created.topics.first?.errorMessage ?? "")
        broker.assertRestartsAndServes("asked for __meta")
        let again = try XCTUnwrap(try HostileClient(port: broker.port).call(all, version: 12))
        XCTAssertFalse(again.topics.contains { $0.name == "__meta" })
    }

    /// Deleting the offsets topic (or its records) would drop every group's committed offsets.
    func testDeletingTheOffsetsTopicOrItsRecordsIsRefused() throws {
        let client = try HostileClient(port: broker.port)
        var delete = DeleteTopicsRequest()
        delete.topicNames = ["__consumer_offsets"]
        delete.timeoutMs = 10_000
        let deleted = try XCTUnwrap(try client.call(delete, version: 4))
        XCTAssertEqual(deleted.responses.first?.errorCode, ErrorCode.invalidTopicException.rawValue)

        var records = DeleteRecordsRequest()
        var topic = DeleteRecordsRequest.DeleteRecordsTopic()
        topic.name = "__consumer_offsets"
        var partition = DeleteRecordsRequest.DeleteRecordsPartition()
        partition.partitionIndex = 0
        partition.offset = -1
        topic.partitions = [partition]
        records.topics = [topic]
        records.timeoutMs = 10_000
        let truncated = try XCTUnwrap(try client.call(records, version: 2))
        XCTAssertEqual(truncated.topics.first?.partitions.first?.errorCode, ErrorCode.invalidTopicException.rawValue)

        var all = MetadataRequest()
        var wanted = MetadataRequest.MetadataRequestTopic()
        wanted.name = "__consumer_offsets"
        all.topics = [wanted]
        let listed = try XCTUnwrap(try client.call(all, version: 12))
        XCTAssertEqual(listed.topics.first?.errorCode, 0, "the offsets topic is still there")
        broker.assertRestartsAndServes("delete __consumer_offsets")
    }

    // MARK: Topic names and partition directories (item 4)

    /// Names of 221 to 249 characters pass validation but `<topic>-<partition>-<id>` does not fit in a
    /// directory name (255 bytes): every legal name must make a directory that fits.
    func testTopicsWithTheLongestLegalNamesAreCreatedProducedAndSurviveARestart() throws {
        let client = try HostileClient(port: broker.port)
        let names = [String(repeating: "a", count: 221), String(repeating: "b.c-d_", count: 41) + "xyz",
                     String(repeating: "z", count: 249)]
        XCTAssertEqual(names.map(\.count), [221, 249, 249])
        for name in names {
            let created = try XCTUnwrap(try client.call(HostileRequests.createTopics([name], partitions: 2), version: 5))
            XCTAssertEqual(created.topics.first?.errorCode, 0, created.topics.first?.errorMessage ?? "")
            for partition: Int32 in [0, 1] {
                let produced = try XCTUnwrap(try client.call(
                    HostileRequests.produce(topic: name, partition: partition, records: try Self.batch(["p\(partition)"])), version: 9))
                XCTAssertEqual(produced.responses.first?.partitionResponses.first?.errorCode, 0,
                               produced.responses.first?.partitionResponses.first?.errorMessage ?? "")
            }
        }
        let tooLong = try XCTUnwrap(try client.call(HostileRequests.createTopics([String(repeating: "y", count: 250)]), version: 5))
        XCTAssertEqual(tooLong.topics.first?.errorCode, ErrorCode.invalidTopicException.rawValue)
        broker.assertRestartsAndServes("topics with 249-character names")
        let again = try HostileClient(port: broker.port)
        for name in names {
            for partition: Int32 in [0, 1] {
                XCTAssertEqual(try Self.fetchValues(again, topic: name, partition: partition), ["p\(partition)"], name)
            }
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: broker.dataDir) {
            XCTAssertLessThanOrEqual(name.utf8.count, 255, name)
        }
    }

    /// Directories of the old layout (`<topic>-<partition>-<id hex>`) are renamed to Kafka's
    /// `<topic>-<partition>` with the id in `partition.metadata`, keeping their records.
    func testLegacyPartitionDirectoriesAreMigratedWithTheirRecords() throws {
        let client = try HostileClient(port: broker.port)
        XCTAssertEqual(try client.call(HostileRequests.createTopics(["legacy"]), version: 5)?.topics.first?.errorCode, 0)
        let produced = try client.call(HostileRequests.produce(topic: "legacy", records: try Self.batch(["a", "b", "c"])), version: 9)
        XCTAssertEqual(produced?.responses.first?.partitionResponses.first?.errorCode, 0)
        var named = MetadataRequest()
        var wanted = MetadataRequest.MetadataRequestTopic()
        wanted.name = "legacy"
        named.topics = [wanted]
        let id = try XCTUnwrap(try client.call(named, version: 12)?.topics.first?.topicId)
        broker.kill(signal: SIGTERM)

        let fm = FileManager.default
        let legacy = broker.dataDir + "/legacy-0-" + Self.hex(id)
        let current = try XCTUnwrap(broker.partitionDirectory(topic: "legacy", partition: 0))
        if current != legacy {
            try fm.moveItem(atPath: current, toPath: legacy)
            try? fm.removeItem(atPath: legacy + "/partition.metadata")
        }
        try broker.start()
        broker.assertStillServes("after the migration")
        XCTAssertFalse(fm.fileExists(atPath: legacy), "the old directory is gone")
        let metadata = try String(contentsOfFile: broker.dataDir + "/legacy-0/partition.metadata", encoding: .utf8)
        XCTAssertEqual(metadata, "version: 0\ntopic_id: \(Self.base64(id))", "Kafka's format")
        XCTAssertEqual(try Self.fetchValues(try HostileClient(port: broker.port), topic: "legacy"), ["a", "b", "c"])
        broker.assertRestartsAndServes("after the migration")
    }

    /// One partition whose log cannot be opened (here its directory is a plain file) stays offline;
    /// the broker starts and serves the others.
    func testAPartitionThatCannotBeOpenedStaysOfflineAndTheOthersServe() throws {
        let client = try HostileClient(port: broker.port)
        for name in ["broken", "healthy"] {
            XCTAssertEqual(try client.call(HostileRequests.createTopics([name]), version: 5)?.topics.first?.errorCode, 0)
            let produced = try client.call(HostileRequests.produce(topic: name, records: try Self.batch(["v-\(name)"])), version: 9)
            XCTAssertEqual(produced?.responses.first?.partitionResponses.first?.errorCode, 0)
        }
        broker.kill()
        let directory = try XCTUnwrap(broker.partitionDirectory(topic: "broken", partition: 0))
        try FileManager.default.removeItem(atPath: directory)
        XCTAssertTrue(FileManager.default.createFile(atPath: directory, contents: Data("not a directory".utf8)))
        try broker.start()
        broker.assertStillServes("one partition cannot be opened")
        let again = try HostileClient(port: broker.port)
        XCTAssertEqual(try Self.fetchValues(again, topic: "healthy"), ["v-healthy"])
        let refused = try XCTUnwrap(try again.call(HostileRequests.produce(topic: "broken", records: try Self.batch(["x"])), version: 9))
        XCTAssertEqual(refused.responses.first?.partitionResponses.first?.errorCode, ErrorCode.kafkaStorageError.rawValue,
                       "an offline log answers as Kafka does for an offline log directory")
        let accepted = try XCTUnwrap(try again.call(HostileRequests.produce(topic: "healthy", records: try Self.batch(["w"])), version: 9))
        XCTAssertEqual(accepted.responses.first?.partitionResponses.first?.errorCode, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory), "nothing was deleted")
        XCTAssertTrue(broker.log.contains("offline"), broker.log.suffix(2000).description)
    }

    // MARK: Stray directories (item 15)

    /// Without its metadata snapshot the broker knows no topics; the partition directories on disk are
    /// renamed `<topic>-<partition>.<id>-stray` and logged, as KRaft brokers do, never deleted.
    func testDirectoriesTheMetadataDoesNotNameAreRenamedStrayNotDeleted() throws {
        let client = try HostileClient(port: broker.port)
        XCTAssertEqual(try client.call(HostileRequests.createTopics(["kept"]), version: 5)?.topics.first?.errorCode, 0)
        let produced = try client.call(HostileRequests.produce(topic: "kept", records: try Self.batch(["x", "y"])), version: 9)
        XCTAssertEqual(produced?.responses.first?.partitionResponses.first?.errorCode, 0)
        broker.kill()
        try FileManager.default.removeItem(atPath: broker.dataDir + "/__meta/metadata.snapshot")
        try broker.start()
        broker.assertStillServes("without a metadata snapshot")

        let names = try FileManager.default.contentsOfDirectory(atPath: broker.dataDir)
        let stray = try XCTUnwrap(names.first { $0.hasPrefix("kept-0.") && $0.hasSuffix("-stray") }, "\(names)")
        let strayPath = broker.dataDir + "/" + stray
        var values: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: strayPath).sorted() where file.hasSuffix(".log") {
            let data = try Data(contentsOf: URL(fileURLWithPath: strayPath + "/" + file))
            var iterator = RecordBatchIterator(ByteBuffer(bytes: data), verifyingChecksums: true)
            while let entry = try iterator.next() {
                values += try RecordBatch(decoding: entry.bytes, maxUncompressedBytes: 1 << 20).records
                    .map { String(decoding: $0.value ?? [], as: UTF8.self) }
            }
        }
        XCTAssertEqual(values, ["x", "y"], "the records are still in the stray directory")
        XCTAssertTrue(broker.log.contains("stray"), broker.log.suffix(2000).description)
        broker.assertRestartsAndServes("with a stray directory")
        XCTAssertTrue(FileManager.default.fileExists(atPath: strayPath), "a stray directory stays where it is")
    }

    // MARK: Duplicates (item 8)

    /// Thousands of copies of one topic or partition in a request of some 35 KB give one entry each
    /// (Metadata, Fetch, OffsetFetch, DescribeConfigs collapse them; ListOffsets refuses the partition
    /// with INVALID_REQUEST, as Kafka does), so the response stays small.
    func testDuplicatedEntriesGiveBoundedResponses() throws {
        let client = try HostileClient(port: broker.port)
        XCTAssertEqual(try client.call(HostileRequests.createTopics(["dups"], partitions: 50), version: 5)?.topics.first?.errorCode, 0)
        let produced = try client.call(HostileRequests.produce(topic: "dups", records: try Self.batch(["only"])), version: 9)
        XCTAssertEqual(produced?.responses.first?.partitionResponses.first?.errorCode, 0)
        let copies = 5000

        var metadata = MetadataRequest()
        var wanted = MetadataRequest.MetadataRequestTopic()
        wanted.name = "dups"
        metadata.topics = Array(repeating: wanted, count: copies)
        let (described, metadataBytes) = try Self.callMeasured(client, metadata, version: 12)
        XCTAssertEqual(described.topics.count, 1)
        XCTAssertLessThan(metadataBytes, 64 * 1024)

        var listOffsets = ListOffsetsRequest()
        listOffsets.replicaId = -1
        var listTopic = ListOffsetsRequest.ListOffsetsTopic()
        listTopic.name = "dups"
        var listPartition = ListOffsetsRequest.ListOffsetsPartition()
        listPartition.timestamp = -1
        listTopic.partitions = Array(repeating: listPartition, count: copies)
        listOffsets.topics = [listTopic]
        let (listed, listBytes) = try Self.callMeasured(client, listOffsets, version: 7)
        XCTAssertEqual(listed.topics.flatMap(\.partitions).count, 1)
        XCTAssertEqual(listed.topics.first?.partitions.first?.errorCode, ErrorCode.invalidRequest.rawValue)
        XCTAssertLessThan(listBytes, 64 * 1024)

        for sessionEpoch: Int32 in [-1, 0] {
            var fetch = Self.fetchRequest(topic: "dups", partition: 0)
            fetch.sessionEpoch = sessionEpoch
            fetch.topics[0].partitions = Array(repeating: fetch.topics[0].partitions[0], count: copies)
            let (fetched, fetchBytes) = try Self.callMeasured(client, fetch, version: 12)
            XCTAssertEqual(fetched.responses.flatMap(\.partitions).count, 1, "session epoch \(sessionEpoch)")
            XCTAssertLessThan(fetchBytes, 64 * 1024)
        }

        var offsetFetch = OffsetFetchRequest()
        offsetFetch.groupId = "dups-group"
        var offsetTopic = OffsetFetchRequest.OffsetFetchRequestTopic()
        offsetTopic.name = "dups"
        offsetTopic.partitionIndexes = Array(repeating: 0, count: copies)
        offsetFetch.topics = [offsetTopic]
        let (offsets, offsetBytes) = try Self.callMeasured(client, offsetFetch, version: 7)
        XCTAssertLessThanOrEqual(offsets.topics.flatMap(\.partitions).count, 1)
        XCTAssertLessThan(offsetBytes, 64 * 1024)

        var describeConfigs = DescribeConfigsRequest()
        var resource = DescribeConfigsRequest.DescribeConfigsResource()
        resource.resourceType = 2
        resource.resourceName = "dups"
        resource.configurationKeys = nil
        describeConfigs.resources = Array(repeating: resource, count: copies)
        describeConfigs.includeSynonyms = true
        let (configs, configBytes) = try Self.callMeasured(client, describeConfigs, version: 4)
        XCTAssertEqual(configs.results.count, 1)
        XCTAssertLessThan(configBytes, 64 * 1024)
        broker.assertStillServes("duplicated entries")
    }

    // MARK: Limits (item 10)

    /// 100 000 partitions would need some 300 000 file descriptors: refused with a clear error before
    /// anything is committed, and the broker restarts as before.
    func testOneHundredThousandPartitionsAreRefusedClearlyAndTheBrokerRestarts() throws {
        let client = try HostileClient(port: broker.port)
        let created = try XCTUnwrap(try client.call(HostileRequests.createTopics(["huge"], partitions: 100_000), version: 5))
        XCTAssertEqual(created.topics.first?.errorCode, ErrorCode.policyViolation.rawValue, created.topics.first?.errorMessage ?? "")
        XCTAssertTrue(created.topics.first?.errorMessage?.contains("partitions") == true, created.topics.first?.errorMessage ?? "")

        XCTAssertEqual(try client.call(HostileRequests.createTopics(["grow"]), version: 5)?.topics.first?.errorCode, 0)
        var grow = CreatePartitionsRequest()
        var growTopic = CreatePartitionsRequest.CreatePartitionsTopic()
        growTopic.name = "grow"
        growTopic.count = 100_000
        growTopic.assignments = nil
        grow.topics = [growTopic]
        grow.timeoutMs = 10_000
        let grown = try XCTUnwrap(try client.call(grow, version: 3))
        XCTAssertEqual(grown.results.first?.errorCode, ErrorCode.policyViolation.rawValue, grown.results.first?.errorMessage ?? "")

        var named = MetadataRequest()
        var wanted = MetadataRequest.MetadataRequestTopic()
        wanted.name = "huge"
        named.topics = [wanted]
        named.allowAutoTopicCreation = false
        XCTAssertEqual(try client.call(named, version: 12)?.topics.first?.errorCode, ErrorCode.unknownTopicOrPartition.rawValue)
        XCTAssertTrue(broker.log.contains("file descriptor"), broker.log.suffix(2000).description)
        broker.assertRestartsAndServes("100 000 partitions asked for")
    }

    func testConfiguredLimitsOnPartitionsAndTopicsAreEnforced() throws {
        // __consumer_offsets (one partition) counts too: it holds descriptors like any topic.
        let limited = try BrokerProcess(extraArguments: ["--partitions-per-broker-max", "5", "--topics-max", "3"])
        defer { limited.stop() }
        let client = try HostileClient(port: limited.port)
        XCTAssertEqual(try client.call(HostileRequests.createTopics(["a"], partitions: 3), version: 5)?.topics.first?.errorCode, 0)
        let over = try XCTUnwrap(try client.call(HostileRequests.createTopics(["b"], partitions: 2), version: 5)?.topics.first)
        XCTAssertEqual(over.errorCode, ErrorCode.policyViolation.rawValue, over.errorMessage ?? "")
        XCTAssertTrue(over.errorMessage?.contains("configured") == true, over.errorMessage ?? "")
        XCTAssertEqual(try client.call(HostileRequests.createTopics(["c"]), version: 5)?.topics.first?.errorCode, 0)
        let fourth = try XCTUnwrap(try client.call(HostileRequests.createTopics(["d"]), version: 5)?.topics.first)
        XCTAssertEqual(fourth.errorCode, ErrorCode.policyViolation.rawValue, "a fourth topic is past --topics-max 3")
        limited.assertRestartsAndServes("limits reached")
    }

    // MARK: Helpers

    static func fetchRequest(topic: String, partition: Int32 = 0, offset: Int64 = 0) -> FetchRequest {
        var p = FetchRequest.FetchPartition()
        p.partition = partition
        p.fetchOffset = offset
        p.partitionMaxBytes = 1 << 20
        var t = FetchRequest.FetchTopic()
        t.topic = topic
        t.partitions = [p]
        var request = FetchRequest()
        request.replicaId = -1
        request.maxWaitMs = 0
        request.minBytes = 1
        request.maxBytes = 50 << 20
        request.sessionEpoch = -1
        request.topics = [t]
        return request
    }

    /// The values of the records a sessionless fetch from offset 0 returns.
    static func fetchValues(_ client: HostileClient, topic: String, partition: Int32 = 0) throws -> [String] {
        let response = try XCTUnwrap(try client.call(fetchRequest(topic: topic, partition: partition), version: 12))
        let data = try XCTUnwrap(response.responses.first?.partitions.first)
        XCTAssertEqual(data.errorCode, 0, "fetch \(topic)-\(partition)")
        guard let records = data.records else { return [] }
        var values: [String] = []
        var iterator = RecordBatchIterator(records)
        while let entry = try iterator.next() {
            values += try RecordBatch(decoding: entry.bytes, maxUncompressedBytes: 1 << 20).records
                .map { String(decoding: $0.value ?? [], as: UTF8.self) }
        }
        return values
    }

    /// The response and the size of its frame in bytes.
    static func callMeasured<Request: KafkaRequestMessage>(_ client: HostileClient, _ request: Request, version: Int16) throws -> (Request.Response, Int) {
        XCTAssertTrue(client.send(try client.frame(request, version: version)))
        let payload = try XCTUnwrap(client.receiveFrame(), "no response to \(Request.self)")
        return (try ResponseFrame.decode(Request.Response.self, version: version, payload: payload).message, payload.readableBytes)
    }

    static func hex(_ id: KafkaUUID) -> String {
        [id.high, id.low].map { value in
            let text = String(value, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }.joined()
    }

    /// Kafka's form of a UUID: base64url without padding.
    static func base64(_ id: KafkaUUID) -> String {
        var bytes: [UInt8] = []
        for value in [id.high, id.low] { for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) } }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func batch(_ values: [String]) throws -> ByteBuffer {
        var builder = RecordBatchBuilder()
        for (i, value) in values.enumerated() {
            builder.append(key: Array("k\(i)".utf8), value: Array(value.utf8), timestampMs: 1_700_000_000_000 + Int64(i))
        }
        return try builder.build()
    }

    /// One record whose final varint (its header count) is cut off, with the record length, batch length
    /// and CRC fixed up so that the batch itself is well formed.
    static func batchWithoutHeaderCount() throws -> ByteBuffer {
        var builder = RecordBatchBuilder()
        builder.append(key: Array("k".utf8), value: Array("v".utf8), timestampMs: 1_700_000_000_000)
        var buffer = try builder.build()
        var bytes = try XCTUnwrap(buffer.readBytes(length: buffer.readableBytes))
        let recordStart = 61
        // attributes, timestamp delta, offset delta, key length, key, value length, value, header count
        XCTAssertEqual(bytes[recordStart], 16, "a record of 8 bytes (zigzag varint)")
        XCTAssertEqual(bytes.last, 0, "no headers")
        bytes.removeLast()
        bytes[recordStart] = 14
        let batchLength = UInt32(bytes.count - 12)
        for i in 0..<4 { bytes[8 + i] = UInt8(truncatingIfNeeded: batchLength >> (24 - 8 * UInt32(i))) }
        let crc = crc32c(bytes[21...])
        for i in 0..<4 { bytes[17 + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(i))) }
        return ByteBuffer(bytes: bytes)
    }

    static func crc32c(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }
}
