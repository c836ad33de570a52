import Synchronization
import RunnelMetadata
import RunnelStorage
import XCTest

final class ControllerTests: XCTestCase {
    var generator = SplitMix64(seed: 42)

    func testCreateTopicSpreadsLeadersAndStartsWithFullISRAndEpochZero() throws {
        let controller = Controller(defaultPartitions: 3, defaultReplicationFactor: 3)
        var image = MetadataImage()
        let records = try controller.createTopic(TopicSpec(name: "orders"), in: image, liveBrokers: [3, 1, 2], using: &generator)
        records.forEach { image.apply($0) }
        let topic = try XCTUnwrap(image.topic(named: "orders"))
        XCTAssertEqual(topic.partitionCount, 3)
        XCTAssertEqual(topic.partitions.values.map(\.leader).sorted(), [1, 2, 3], "leaders rotate over the brokers")
        for partition in topic.partitions.values {
            XCTAssertEqual(partition.isr, partition.replicas)
            XCTAssertEqual(partition.leaderEpoch, 0)
            XCTAssertEqual(partition.replicas.count, 3)
        }
    }

    func testDefaultReplicationFactorIsCappedByLiveBrokersButAnExplicitOneIsNot() throws {
        let controller = Controller(defaultPartitions: 1, defaultReplicationFactor: 3)
        let records = try controller.createTopic(TopicSpec(name: "t"), in: MetadataImage(), liveBrokers: [1], using: &generator)
        guard case .partition(let p) = records[1] else { return XCTFail("expected a partition record") }
        XCTAssertEqual(p.replicas, [1])
        XCTAssertThrowsError(try controller.createTopic(
            TopicSpec(name: "t", replicationFactor: 3), in: MetadataImage(), liveBrokers: [1], using: &generator)) { error in
            guard case .invalidReplicationFactor = error as? MetadataError else { return XCTFail("\(error)") }
        }
    }

    func testDuplicateCollidingAndIllegalTopicNamesAreRefused() throws {
        let controller = Controller()
        var image = MetadataImage()
        try controller.createTopic(TopicSpec(name: "a.b"), in: image, liveBrokers: [1], using: &generator).forEach { image.apply($0) }
        for (name, expected) in [("a.b", "exists"), ("a_b", "collides"), ("", "empty"), ("bad name", "illegal"), ("..", "cannot")] {
            XCTAssertThrowsError(try controller.createTopic(TopicSpec(name: name), in: image, liveBrokers: [1], using: &generator), name) { error in
                XCTAssertTrue((error as! MetadataError).message.contains(expected), "\(name): \(error)")
            }
        }
        XCTAssertThrowsError(try controller.createTopic(
            TopicSpec(name: "x", configs: ["retention.ms": "soon"]), in: image, liveBrokers: [1], using: &generator))
        XCTAssertThrowsError(try controller.createTopic(
            TopicSpec(name: "x", configs: ["no.such.config": "1"]), in: image, liveBrokers: [1], using: &generator))
    }

    func testCreatePartitionsOnlyGrowsAndAlterConfigsValidates() throws {
        let controller = Controller()
        var image = MetadataImage()
        try controller.createTopic(TopicSpec(name: "t", partitions: 2), in: image, liveBrokers: [1], using: &generator).forEach { image.apply($0) }
        XCTAssertThrowsError(try controller.createPartitions(topic: "t", totalCount: 2, assignments: nil, in: image, liveBrokers: [1]))
        try controller.createPartitions(topic: "t", totalCount: 5, assignments: nil, in: image, liveBrokers: [1]).forEach { image.apply($0) }
        XCTAssertEqual(image.topic(named: "t")?.partitionCount, 5)

        let resource = ConfigResource(.topic, "t")
        try controller.alterConfigs(resource, changes: [("retention.ms", .set, "1000")], incremental: true, in: image).forEach { image.apply($0) }
        try controller.alterConfigs(resource, changes: [("cleanup.policy", .append, "compact")], incremental: true, in: image).forEach { image.apply($0) }
        XCTAssertEqual(image.configOverrides(resource), ["retention.ms": "1000", "cleanup.policy": "delete,compact"])
        XCTAssertThrowsError(try controller.alterConfigs(resource, changes: [("retention.ms", .set, "x")], incremental: true, in: image))
        // Non-incremental AlterConfigs replaces every override.
        try controller.alterConfigs(resource, changes: [("segment.ms", .set, "5000")], incremental: false, in: image).forEach { image.apply($0) }
        XCTAssertEqual(image.configOverrides(resource), ["segment.ms": "5000"])
        let settings = TopicSettings(overrides: image.configOverrides(resource), brokerDefaults: ["log.retention.ms": "77"])
        XCTAssertEqual(settings.segmentMs, 5000)
        XCTAssertEqual(settings.retentionMs, 77)
    }

    func testLeaderChangeBumpsTheLeaderEpochAndISRChangeOnlyThePartitionEpoch() throws {
        var image = MetadataImage()
        let id = TopicID(high: 1, low: 2)
        image.apply(.topic(name: "t", id: id))
        image.apply(.partition(PartitionRecord(topicID: id, partition: 0, replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1)))
        image.apply(.partitionChange(PartitionChange(topicID: id, partition: 0, isr: [1, 2])))
        XCTAssertEqual(image.partition(TopicPartition("t", 0))?.leaderEpoch, 0)
        image.apply(.partitionChange(PartitionChange(topicID: id, partition: 0, leader: 2, isr: [2])))
        let p = try XCTUnwrap(image.partition(TopicPartition("t", 0)))
        XCTAssertEqual(p.leader, 2)
        XCTAssertEqual(p.leaderEpoch, 1)
        XCTAssertEqual(p.partitionEpoch, 2)
    }
}

final class MetadataLogTests: XCTestCase {
    func testProducerIdBlocksFollowEachOtherAndTheHighMarkSurvivesASnapshot() throws {
        let controller = Controller()
        var image = MetadataImage()
        for record in try controller.allocateProducerIdBlock(size: 1000, in: image) { image.apply(record) }
        let second = try controller.allocateProducerIdBlock(size: 1000, in: image)
        XCTAssertEqual(second, [.producerIdBlock(firstID: 1000, size: 1000)])
        for record in second { image.apply(record) }
        XCTAssertEqual(image.nextProducerID, 2000)
        var rebuilt = MetadataImage()
        for record in image.snapshotRecords { rebuilt.apply(record) }
        XCTAssertEqual(rebuilt.nextProducerID, 2000)
    }

    func testEveryRecordKindSurvivesTheCodecAndTruncationIsAnError() throws {
        let records: [MetadataRecord] = [
            .registerBroker(BrokerRegistration(id: 1, directoryID: UUID128(high: 9, low: 8), endpoints: [Endpoint(listener: "CLIENT", host: "h", port: 9092)], rack: "r1")),
            .topic(name: "t", id: UUID128(high: 1, low: 1)),
            .partition(PartitionRecord(topicID: UUID128(high: 1, low: 1), partition: 3, replicas: [1, 2], isr: [2], leader: 2, leaderEpoch: 4, partitionEpoch: 5)),
            .partitionChange(PartitionChange(topicID: UUID128(high: 1, low: 1), partition: 3, leader: nil, isr: [1, 2])),
            .removeTopic(id: UUID128(high: 1, low: 1)),
            .config(resource: ConfigResource(.topic, "t"), name: "retention.ms", value: nil),
            .producerIdBlock(firstID: 4000, size: 1000),
        ]
        for record in records {
            let bytes = MetadataRecordCodec.encode(record)
            XCTAssertEqual(try MetadataRecordCodec.decode(bytes), record)
            for cut in 0..<bytes.count { XCTAssertThrowsError(try MetadataRecordCodec.decode(Array(bytes[0..<cut]))) }
        }
    }

    func testAppliedChangesSurviveACrashAndObserversSeeThemInOrder() async throws {
        let fs = SimulatedFileSystem()
        try fs.createDirectory("/data")
        try fs.syncDirectory("/")
        let log = try LocalMetadataLog(fileSystem: fs, directory: "/data")
        let seen = Mutex<[Int]>([])
        log.observe { _, applied in seen.withLock { $0.append(applied.count) } }
        let controller = Controller(defaultPartitions: 2)
        for name in ["a", "b"] {
            _ = try await log.submit { image in
                var generator = SplitMix64(seed: UInt64(image.appliedCount))
                return try controller.createTopic(TopicSpec(name: name), in: image, liveBrokers: [1], using: &generator)
            }
        }
        do {
            _ = try await log.submit { image in
                var generator = SplitMix64(seed: 1)
                return try controller.createTopic(TopicSpec(name: "a"), in: image, liveBrokers: [1], using: &generator)
            }
            XCTFail("a second topic a must be refused")
        } catch let error as MetadataError {
            guard case .topicAlreadyExists = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(seen.withLock { $0 }, [3, 3])
        fs.crash()
        let reopened = try LocalMetadataLog(fileSystem: fs, directory: "/data")
        XCTAssertEqual(reopened.image.topics.values.map(\.name).sorted(), ["a", "b"])
        XCTAssertEqual(reopened.image.topic(named: "a")?.partitionCount, 2)
        XCTAssertEqual(reopened.image.topic(named: "a"), log.image.topic(named: "a"))
    }

    func testADirectoryOfAnotherNodeOrClusterIsRefused() throws {
        let fs = SimulatedFileSystem()
        var generator = SplitMix64(seed: 5)
        let first = try NodeIdentity.loadOrCreate(fileSystem: fs, directory: "/d", nodeID: 1, clusterID: "c1", using: &generator)
        let again = try NodeIdentity.loadOrCreate(fileSystem: fs, directory: "/d", nodeID: 1, clusterID: nil, using: &generator)
        XCTAssertEqual(first, again)
        XCTAssertThrowsError(try NodeIdentity.loadOrCreate(fileSystem: fs, directory: "/d", nodeID: 2, clusterID: "c1", using: &generator)) {
            XCTAssertEqual($0 as? NodeIdentity.Mismatch, .otherNode(found: 1, expected: 2))
        }
        XCTAssertThrowsError(try NodeIdentity.loadOrCreate(fileSystem: fs, directory: "/d", nodeID: 1, clusterID: "c2", using: &generator)) {
            XCTAssertEqual($0 as? NodeIdentity.Mismatch, .otherCluster(found: "c1", expected: "c2"))
        }
    }

    func testUUIDTextFormsRoundTrip() {
        var generator = SplitMix64(seed: 3)
        for _ in 0..<100 {
            let id = UUID128.random(using: &generator)
            XCTAssertEqual(id.base64.count, 22)
            XCTAssertEqual(UUID128(base64: id.base64), id)
            XCTAssertEqual(UUID128(hex: id.hex), id)
        }
    }
}
