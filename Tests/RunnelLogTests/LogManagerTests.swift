import Foundation
import NIOCore
import RunnelLog
import RunnelStorage
import XCTest

final class LogManagerTests: XCTestCase {
    private let orders = PartitionDirectory(topic: "orders", partition: 0, topicID: TopicUUID(high: 1, low: 2))
    private let payments = PartitionDirectory(topic: "pay-ments", partition: 3, topicID: TopicUUID(high: 3, low: 4))

    func testLogsAreCreatedListedReopenedAfterACrashAndDeleted() throws {
        let fileSystem = SimulatedFileSystem()
        let scheduler = ManualSyncScheduler()
        let config = LogConfig(retentionMs: nil)
        let manager = try LogManager(dataDirectory: "/var/runnel", fileSystem: fileSystem, syncScheduler: scheduler)
        let ordersLog = try manager.openOrCreate(orders, config: config, nowMs: 0)
        let paymentsLog = try manager.openOrCreate(payments, config: config, nowMs: 0)
        XCTAssertTrue(try manager.openOrCreate(orders, config: config, nowMs: 0) === ordersLog)
        try ordersLog.appendAsLeader(TestBatches.make(records: 3), leaderEpoch: 0, nowMs: 0)
        try paymentsLog.appendAsLeader(TestBatches.make(records: 2), leaderEpoch: 0, nowMs: 0)
        scheduler.runPass()  // one pass serves both partitions
        XCTAssertEqual(ordersLog.flushedOffset, 3)
        XCTAssertEqual(paymentsLog.flushedOffset, 2)
        fileSystem.crash(.dropUnsynced)

        let restarted = try LogManager(dataDirectory: "/var/runnel", fileSystem: fileSystem, syncScheduler: scheduler)
        XCTAssertEqual(Set(try restarted.existingPartitions().map { PartitionDirectory(topic: $0.topic, partition: $0.partition, topicID: $0.topicID!) }),
                       [orders, payments])
        let opened = try restarted.openExisting(nowMs: 0) { _ in config }
        XCTAssertEqual(opened[orders]?.logEndOffset, 3)
        XCTAssertEqual(opened[payments]?.logEndOffset, 2)

        try restarted.delete(orders)
        XCTAssertNil(restarted.log(for: orders))
        XCTAssertFalse(fileSystem.directoryExists("/var/runnel/" + orders.name))
        fileSystem.crash(.dropUnsynced)
        XCTAssertEqual(try LogManager(dataDirectory: "/var/runnel", fileSystem: fileSystem, syncScheduler: scheduler)
            .existingPartitions().map(\.name), [payments.name])
    }

    func testARecreatedTopicNeverMeetsTheOldTopicsFiles() throws {
        let fileSystem = SimulatedFileSystem()
        let manager = try LogManager(dataDirectory: "/d", fileSystem: fileSystem, syncScheduler: ManualSyncScheduler())
        let old = try manager.openOrCreate(orders, config: LogConfig(), nowMs: 0)
        try old.appendAsLeader(TestBatches.make(records: 5), leaderEpoch: 0, nowMs: 0)
        let recreated = PartitionDirectory(topic: "orders", partition: 0, topicID: TopicUUID(high: 9, low: 9))
        XCTAssertThrowsError(try manager.openOrCreate(recreated, config: LogConfig(), nowMs: 0), "the directory is the old topic's")
        try manager.delete(orders)
        let fresh = try manager.openOrCreate(recreated, config: LogConfig(), nowMs: 0)
        XCTAssertEqual(fresh.logEndOffset, 0)
        XCTAssertEqual(try manager.existingPartitions().map(\.topicID), [recreated.topicID])
    }

    func testNamesThatAreNotPartitionDirectoriesAreIgnored() throws {
        let fileSystem = SimulatedFileSystem()
        let manager = try LogManager(dataDirectory: "/d", fileSystem: fileSystem, syncScheduler: ManualSyncScheduler())
        try fileSystem.createDirectory("/d/lost+found")
        _ = try fileSystem.openFile("/d/meta.properties", options: [.create])
        _ = try manager.openOrCreate(orders, config: LogConfig(), nowMs: 0)
        try fileSystem.createDirectory("/d/x-0.00000000000000000000000000000000-stray")
        XCTAssertEqual(try manager.existingPartitions().map(\.name), [orders.name])
    }
}

final class PosixLogSmokeTests: XCTestCase {
    func testAppendSyncReadAndReopenOnARealDisk() async throws {
        let root = NSTemporaryDirectory() + "runnel-log-\(UUID().uuidString)"
        defer { try? PosixFileSystem().removeDirectory(root) }
        let scheduler = FsyncScheduler { _ in }
        defer { scheduler.shutdown() }
        let config = LogConfig(segmentBytesMax: 1_000, retentionMs: nil, indexIntervalBytes: 200)
        let partition = PartitionDirectory(topic: "smoke", partition: 0, topicID: TopicUUID(high: 5, low: 6))
        let manager = try LogManager(dataDirectory: root, fileSystem: PosixFileSystem(), syncScheduler: scheduler)
        let log = try manager.openOrCreate(partition, config: config, nowMs: 0)
        for i in 0..<30 {
            try log.appendAsLeader(TestBatches.make(baseOffset: Int64(i * 2), records: 2, timestampMs: Int64(i) * 10),
                                   leaderEpoch: 1, nowMs: 0)
        }
        try await log.waitUntilFlushed(to: 60)
        XCTAssertEqual(log.flushedOffset, 60)
        log.updateHighWatermark(60)
        XCTAssertGreaterThan(log.segmentBaseOffsets.count, 3)
        let slice = try XCTUnwrap(try log.readSlice(from: 10, maxBytes: 300, upTo: 60).slice)
        XCTAssertNotNil(slice.file.fileDescriptor)
        manager.closeAll()

        let reopened = try LogManager(dataDirectory: root, fileSystem: PosixFileSystem(), syncScheduler: scheduler)
            .openExisting(nowMs: 0) { _ in config }
        let again = try XCTUnwrap(reopened[partition])
        XCTAssertEqual(again.logEndOffset, 60)
        XCTAssertEqual(again.highWatermark, 60)
        XCTAssertEqual(again.latestEpoch, 1)
        XCTAssertEqual(try again.read(from: 33, maxBytes: 1, upTo: 60).firstBatchOffset, 32)
        XCTAssertEqual(try again.offsetForTimestamp(95)?.baseOffset, 20)
        again.close()
    }
}
