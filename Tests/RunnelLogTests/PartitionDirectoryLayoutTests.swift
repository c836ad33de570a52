import NIOCore
import RunnelLog
import RunnelStorage
import XCTest

/// Kafka's directory layout, `<topic>-<partition>` with the topic id in `partition.metadata` (issue 12,
/// item 4): every legal topic name fits, the old layout migrates, deletion is all or nothing.
final class PartitionDirectoryLayoutTests: XCTestCase {
    private let id = TopicUUID(high: 0x0001_0203_0405_0607, low: 0x0809_0a0b_0c0d_0e0f)

    func testEveryLegalTopicNameAndPartitionMakesADirectoryNameThatFits() {
        let longest = String(repeating: "x", count: 249)
        let directory = PartitionDirectory(topic: longest, partition: 99_999, topicID: id)
        XCTAssertEqual(directory.name.utf8.count, 255)
        XCTAssertEqual(PartitionDirectory.parse(directory.name)?.topic, longest)
        for name in [PartitionDirectory.strayName(topic: longest, partition: 99_999, unique: id.hex),
                     PartitionDirectory.deletedName(topic: longest, partition: 99_999, unique: id.hex)] {
            XCTAssertEqual(name.utf8.count, 255, "the topic is cut so the name fits, as Kafka does")
            XCTAssertNil(PartitionDirectory.parse(name), "never taken for a partition directory")
        }
        XCTAssertEqual(PartitionDirectory.strayName(topic: "t", partition: 3, unique: id.hex), "t-3.000102030405060708090a0b0c0d0e0f-stray")
    }

    func testOnlyPartitionDirectoriesParse() {
        for name in ["__meta", "meta.properties", "lost+found", "lost+found-1", "t-01", "t-", "t-0.1-delete",
                     "t-0-000102030405060708090a0b0c0d0e0f", "t-2147483648", ".-0"] {
            XCTAssertNil(PartitionDirectory.parse(name), name)
        }
        XCTAssertEqual(PartitionDirectory.parse("__consumer_offsets-0")?.topic, "__consumer_offsets")
        XCTAssertNil(PartitionDirectory(legacyName: "t-0"))
    }

    func testTheTopicIdIsWrittenInKafkasFormat() throws {
        XCTAssertEqual(id.base64, "AAECAwQFBgcICQoLDA0ODw")
        XCTAssertEqual(TopicUUID(base64: "AAECAwQFBgcICQoLDA0ODw"), id)
        XCTAssertNil(TopicUUID(base64: "AAECAwQFBgcICQoLDA0ODx"), "the 4 bits past the UUID must be zero")
        XCTAssertNil(TopicUUID(base64: "AAECAwQFBgcICQoLDA0OD"))
        let simulated = SimulatedFileSystem()
        let fileSystem = DirectoryRenamingFileSystem(simulated)
        let manager = try LogManager(dataDirectory: "/d", fileSystem: fileSystem, syncScheduler: ManualSyncScheduler())
        _ = try manager.openOrCreate(PartitionDirectory(topic: "t", partition: 0, topicID: id), config: LogConfig(), nowMs: 0)
        let text = String(decoding: try fileSystem.openFile("/d/t-0/partition.metadata", options: []).readAll(), as: UTF8.self)
        XCTAssertEqual(text, "version: 0\ntopic_id: AAECAwQFBgcICQoLDA0ODw")
    }

    func testLegacyDirectoriesAreMigratedWithTheirRecordsDurably() throws {
        let simulated = SimulatedFileSystem()
        let fileSystem = DirectoryRenamingFileSystem(simulated)
        let scheduler = ManualSyncScheduler()
        let partition = PartitionDirectory(topic: "orders", partition: 2, topicID: id)
        _ = try LogManager(dataDirectory: "/d", fileSystem: fileSystem, syncScheduler: scheduler)
        let old = try PartitionLog.open(directory: "/d/" + partition.legacyName, fileSystem: fileSystem, syncScheduler: scheduler,
                                        config: LogConfig(), nowMs: 0)
        try old.appendAsLeader(TestBatches.make(records: 3), leaderEpoch: 0, nowMs: 0)
        scheduler.runPass()
        old.close()
        simulated.crash(.dropUnsynced)

        let manager = try LogManager(dataDirectory: "/d", fileSystem: fileSystem, syncScheduler: scheduler)
        XCTAssertEqual(try manager.migrateLegacyDirectories().map(\.to), ["orders-2"])
        simulated.crash(.dropUnsynced)  // the rename and the new file were synced
        let restarted = try LogManager(dataDirectory: "/d", fileSystem: fileSystem, syncScheduler: scheduler)
        XCTAssertEqual(try restarted.migrateLegacyDirectories(), [], "done once")
        XCTAssertEqual(try restarted.existingPartitions().map(\.topicID), [id])
        XCTAssertEqual(try restarted.openOrCreate(partition, config: LogConfig(), nowMs: 0).logEndOffset, 3)
    }

    func testALegacyDirectoryWhoseNewNameIsTakenIsSetAsideNotMerged() throws {
        let simulated = SimulatedFileSystem()
        let fileSystem = DirectoryRenamingFileSystem(simulated)
        let manager = try LogManager(dataDirectory: "/d", fileSystem: fileSystem, syncScheduler: ManualSyncScheduler())
        let current = PartitionDirectory(topic: "t", partition: 0, topicID: TopicUUID(high: 5, low: 5))
        _ = try manager.openOrCreate(current, config: LogConfig(), nowMs: 0)
        try fileSystem.createDirectory("/d/" + PartitionDirectory(topic: "t", partition: 0, topicID: id).legacyName)
        let renames = try manager.migrateLegacyDirectories()
        XCTAssertEqual(renames.count, 1)
        XCTAssertTrue(renames[0].to.hasPrefix("t-0.") && renames[0].to.hasSuffix("-stray"), renames[0].to)
        XCTAssertEqual(try manager.existingPartitions().map(\.topicID), [current.topicID])
    }

    func testDeletionIsAllOrNothingAndFinishedAfterACrash() throws {
        let simulated = SimulatedFileSystem()
        let fileSystem = DirectoryRenamingFileSystem(simulated)
        let manager = try LogManager(dataDirectory: "/d", fileSystem: fileSystem, syncScheduler: ManualSyncScheduler())
        let partition = PartitionDirectory(topic: "t", partition: 0, topicID: id)
        _ = try manager.openOrCreate(partition, config: LogConfig(), nowMs: 0)
        try manager.delete(partition)
        XCTAssertEqual(try fileSystem.contentsOfDirectory("/d"), [])
        // A crash between the rename and the removal leaves a `-delete` directory: the next start removes it.
        try fileSystem.createDirectory("/d/t-0.00000000000000000000000000000000-delete")
        XCTAssertEqual(try manager.existingPartitions(), [])
        XCTAssertEqual(try manager.removeInterruptedDeletions(), ["t-0.00000000000000000000000000000000-delete"])
        XCTAssertEqual(try fileSystem.contentsOfDirectory("/d"), [])
    }
}
